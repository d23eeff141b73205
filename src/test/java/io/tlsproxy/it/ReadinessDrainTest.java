package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * While a SIGTERM drain runs, the proxy (its own JVM) reports itself not ready, so that a load balancer stops
 * sending it connections, yet keeps relaying the ones it has until they close.
 */
class ReadinessDrainTest {

  @TempDir
  Path dir;
  private TestServer echo;
  private ProxyProcess proxy;

  @BeforeEach
  void start() throws Exception {
    echo = TestServer.echo();
    proxy = ProxyProcess.start(dir, """
        listeners:
          - name: probed
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d]}
        shutdown: {drainTimeout: 5s}
        """.formatted(echo.port()), 1);
  }

  @AfterEach
  void stop() throws Exception {
    proxy.close();
    echo.close();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
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
    try (Socket s = Clients.plain(proxy.port("probed"))) {
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
}
