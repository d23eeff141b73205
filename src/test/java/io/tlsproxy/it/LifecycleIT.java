package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How a deployed proxy (its own JVM) is told to stop: {@code POST /quitquitquit} on the admin endpoint (with
 * {@code admin.enableQuit}, from loopback) drains like SIGTERM, and {@code shutdown.acceptDuringDrain} keeps
 * accepting through the drain while readiness already says 503, for load balancers that are slow to stop sending.
 */
class LifecycleIT {

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private ProxyProcess proxy;

  private ProxyProcess start(String shutdown) throws Exception {
    TestServer echo = fx.echoBackend();
    proxy = fx.startProcess("""
        admin: {listen: 127.0.0.1:0, enableQuit: true}
        listeners:
          - name: life
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d]}
        shutdown: %s
        """.formatted(echo.port(), shutdown), 1);
    return proxy;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static int status(int adminPort, String path) {
    try {
      return Scrape.get(adminPort, path, null).statusCode();
    } catch (IOException e) {
      return -1; // the endpoint is gone
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static boolean refused(int port) {
    try (Socket s = Clients.plain(port)) {
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void quitquitquitDrainsLikeSigtermAndExitsZero() throws Exception {
    start("{drainTimeout: 10s}");
    int port = proxy.port("life");
    int admin = proxy.adminPort();
    assertEquals(200, status(admin, "/readyz"), "ready once listening");
    assertEquals(405, status(admin, "/quitquitquit"), "a GET does not stop the proxy");
    assertTrue(proxy.isAlive());
    try (Socket s = Clients.plain(port)) {
      assertArrayEquals(bytes("before"), Clients.echo(s, bytes("before")));
      var quit = Scrape.post(admin, "/quitquitquit");
      assertEquals(200, quit.statusCode(), quit.body());
      Await.until("/readyz answers 503", Duration.ofSeconds(5), () -> status(admin, "/readyz") == 503);
      Await.until("new connections refused", Duration.ofSeconds(5), () -> refused(port));
      assertArrayEquals(bytes("during"), Clients.echo(s, bytes("during")), "the open connection carries on");
      assertTrue(proxy.isAlive(), "the proxy waits for the open connection");
      s.shutdownOutput();
      assertEquals(-1, s.getInputStream().read());
      long closed = System.nanoTime();
      assertEquals(0, proxy.waitForExit(Duration.ofSeconds(15)), "exit status");
      Duration afterClose = Duration.ofNanos(System.nanoTime() - closed);
      assertTrue(afterClose.compareTo(Duration.ofSeconds(5)) < 0, "exit only " + afterClose + " after the close");
      proxy.awaitLine(Duration.ofSeconds(5), "POST /quitquitquit: draining");
    }
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void acceptDuringDrainKeepsAcceptingUntilTheDrainTimeoutWhileNotReady() throws Exception {
    Duration drain = Duration.ofSeconds(4);
    start("{drainTimeout: 4s, acceptDuringDrain: true}");
    int port = proxy.port("life");
    int admin = proxy.adminPort();
    try (Socket open = Clients.plain(port)) {
      assertArrayEquals(bytes("before"), Clients.echo(open, bytes("before")));
      long sigterm = System.nanoTime();
      proxy.terminate();
      Await.until("/readyz answers 503", Duration.ofSeconds(3), () -> status(admin, "/readyz") == 503);
      try (Socket late = Clients.plain(port)) {
        assertArrayEquals(bytes("late"), Clients.echo(late, bytes("late")), "accepted after SIGTERM");
      }
      assertArrayEquals(bytes("during"), Clients.echo(open, bytes("during")));
      assertNull(proxy.waitForExit(Duration.ofMillis(500)), "still running within the drain period");
      Integer code = proxy.waitForExit(drain.plusSeconds(10));
      Duration took = Duration.ofNanos(System.nanoTime() - sigterm);
      assertEquals(0, code, "exit status");
      assertTrue(took.compareTo(drain.minusMillis(500)) >= 0, "exited before the drain period ended: " + took);
      assertTrue(took.compareTo(drain.plusSeconds(4)) < 0, "exited too long after the drain period: " + took);
      String line = proxy.awaitLine(Duration.ofSeconds(5), "connection listener=life ",
          "client=/127.0.0.1:" + open.getLocalPort() + " ");
      assertTrue(line.endsWith(" close=drain_timeout"), line);
      assertThrows(ConnectException.class, () -> Clients.plain(port).close(), "refused once stopped");
    }
  }
}
