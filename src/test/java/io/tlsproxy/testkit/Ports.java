package io.tlsproxy.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/** Loopback ports for tests. */
public final class Ports {

  private Ports() {
  }

  /**
   * A port on 127.0.0.1 that nothing listens on: one the kernel just handed out and that was closed again. Another
   * process could take it in between, which on a test machine is rare enough for "connection refused" tests.
   */
  public static int unused() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * Polls until something accepts TCP connections on 127.0.0.1:{@code port}: how a test waits for a server it
   * started in the foreground. Fails with that process's output if it exits first or {@code timeout} passes.
   */
  public static void awaitListening(String what, int port, Duration timeout, ExternalProcess process) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return;
      } catch (IOException notYet) {
        if (!process.process().isAlive()) {
          throw new AssertionError(what + " exited with " + process.process().exitValue() + " before listening on "
              + port + "; output:\n" + process.output());
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError(what + " not listening on " + port + " within " + timeout + "; output:\n"
              + process.output());
        }
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
