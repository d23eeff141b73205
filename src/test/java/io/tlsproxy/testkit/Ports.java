package io.tlsproxy.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

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
}
