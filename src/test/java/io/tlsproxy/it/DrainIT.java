package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SIGTERM drains: the proxy (its own JVM, as deployed) stops accepting at once, lets open connections carry on
 * until they close or the drain timeout cuts them, then exits with status 0; /readyz answers 503 from the
 * signal on.
 */
class DrainIT {

  private static final Duration DRAIN = Duration.ofSeconds(5);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private ProxyProcess proxy;
  private int port;

  @BeforeEach
  void start() throws Exception {
    TestServer echo = fx.echoBackend();
    proxy = fx.startProcess("""
        listeners:
          - name: drained
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d]}
        shutdown: {drainTimeout: 5s}
        """.formatted(echo.port()), 1);
    port = proxy.port("drained");
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  /** Tries new connections until one is refused; returns how long after {@code startNanos} that was. */
  private Duration awaitRefused(long startNanos) throws IOException, InterruptedException {
    for (int attempt = 0; attempt < 100 && since(startNanos).compareTo(Duration.ofSeconds(3)) < 0; attempt++) {
      try (Socket s = Clients.plain(port)) {
        // still accepted: the listener has not closed yet
      } catch (ConnectException refused) {
        return since(startNanos);
      }
      Thread.sleep(20);
    }
    throw new AssertionError("new connections were still accepted " + since(startNanos) + " after SIGTERM");
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void openConnectionKeepsWorkingDuringDrainAndProcessExitsOnceItCloses() throws Exception {
    try (Socket s = Clients.plain(port)) {
      assertArrayEquals(bytes("before"), Clients.echo(s, bytes("before")));
      long sigterm = System.nanoTime();
      proxy.terminate();
      Duration refusedAfter = awaitRefused(sigterm);
      assertTrue(refusedAfter.compareTo(Duration.ofSeconds(2)) < 0, "refused only after " + refusedAfter);
      for (int i = 0; i < 3; i++) {
        byte[] msg = bytes("during the drain " + i);
        assertArrayEquals(msg, Clients.echo(s, msg), "round " + i + " during the drain");
      }
      assertTrue(proxy.isAlive(), "the proxy waits for the open connection");
      s.shutdownOutput();
      assertEquals(-1, s.getInputStream().read());
      long closed = System.nanoTime();
      Integer code = proxy.waitForExit(DRAIN.plusSeconds(10));
      Duration afterClose = since(closed);
      Duration afterSigterm = since(sigterm);
      System.out.printf("drain: refused %d ms after SIGTERM; exit %d ms after the client closed, %d ms after "
          + "SIGTERM%n", refusedAfter.toMillis(), afterClose.toMillis(), afterSigterm.toMillis());
      assertEquals(0, code, "exit status");
      assertTrue(afterSigterm.compareTo(DRAIN.minusSeconds(1)) < 0, "exited only " + afterSigterm + " after SIGTERM");
      String line = proxy.awaitLine(Duration.ofSeconds(5), "connection listener=drained ",
          "client=/127.0.0.1:" + s.getLocalPort() + " ");
      assertTrue(line.endsWith(" close=completed"), line);
    }
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void connectionThatNeverClosesIsCutAtDrainTimeout() throws Exception {
    try (Socket s = Clients.plain(port)) {
      assertArrayEquals(bytes("before"), Clients.echo(s, bytes("before")));
      long sigterm = System.nanoTime();
      proxy.terminate();
      Integer code = proxy.waitForExit(DRAIN.plusSeconds(10));
      Duration took = since(sigterm);
      System.out.printf("drain: exit %d ms after SIGTERM with a connection left open%n", took.toMillis());
      assertEquals(0, code, "exit status");
      assertTrue(took.compareTo(DRAIN.minusMillis(500)) >= 0, "exited before the drain timeout: " + took);
      assertTrue(took.compareTo(DRAIN.plusSeconds(4)) < 0, "exited too long after the drain timeout: " + took);
      String line = proxy.awaitLine(Duration.ofSeconds(5), "connection listener=drained ",
          "client=/127.0.0.1:" + s.getLocalPort() + " ");
      assertTrue(line.endsWith(" close=drain_timeout"), line);
      assertEquals(0, Clients.discardUntilEnd(s), "bytes after the echo; then the connection ends");
    }
  }

  /** The status /readyz answers, or -1 when nothing answers. */
  private static int readyz(int adminPort) throws InterruptedException {
    try {
      return Scrape.get(adminPort, "/readyz", null).statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void readinessTurns503OnSigtermWhileOpenConnectionStillRelaysBothWays() throws Exception {
    int adminPort = proxy.adminPort();
    assertEquals(200, readyz(adminPort), "before SIGTERM");
    try (Socket s = Clients.plain(proxy.port("drained"))) {
      assertArrayEquals(bytes("before"), Clients.echo(s, bytes("before")));
      long sigterm = System.nanoTime();
      proxy.terminate();
      int status = 0;
      for (int i = 0; i < 300 && System.nanoTime() - sigterm < Duration.ofSeconds(3).toNanos(); i++) {
        status = readyz(adminPort);
        if (status == 503) {
          break;
        }
        Thread.sleep(10);
      }
      assertEquals(503, status, () -> "/readyz during the drain; proxy logged: " + proxy.lines());
      System.out.printf("readyz: 503 %d ms after SIGTERM%n",
          Duration.ofNanos(System.nanoTime() - sigterm).toMillis());
      assertArrayEquals(bytes("during the drain"), Clients.echo(s, bytes("during the drain")),
          "the open connection still relays after readiness turned");
      assertEquals(503, readyz(adminPort), "readiness stays off for the rest of the drain");
    }
    assertEquals(0, proxy.waitForExit(Duration.ofSeconds(4)), () -> "exit status once the client closed; "
        + "proxy logged: " + proxy.lines());
  }

  /**
   * start() returns as soon as the listener logged its port, before the rest of start-up (the admin endpoint,
   * the signal handlers once): a SIGTERM then must still drain and exit with 0, not meet the JVM's default
   * action (status 143).
   */
  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void sigtermAsSoonAsTheListenerOpensStillDrains() throws Exception {
    proxy.terminate();
    assertEquals(0, proxy.waitForExit(DRAIN.plusSeconds(10)), "exit status (143: ended by the signal itself)");
  }
}
