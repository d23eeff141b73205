package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every wait of a connection is bounded: the client's handshake, silence on a relayed connection, dialling
 * endpoints that refuse. And the choice of endpoint: failover past a dead one, round-robin across live ones.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TimeoutsIT {

  private static final Duration SHORT = Duration.ofMillis(500);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestServer failoverEcho;
  private TestServer balancedA;
  private TestServer balancedB;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("timeouts-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    TestServer echo = fx.echoBackend();
    failoverEcho = fx.echoBackend();
    balancedA = fx.echoBackend();
    balancedB = fx.echoBackend();
    logs = fx.logs();
    proxy = fx.start("""
        listeners:
          - name: handshake
            listen: 127.0.0.1:0
            tls: {%1$s, handshakeTimeout: 500ms}
            upstream: {endpoints: [127.0.0.1:%2$d]}
          - name: idle
            listen: 127.0.0.1:0
            idleTimeout: 500ms
            upstream: {endpoints: [127.0.0.1:%2$d]}
          - name: all-down
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%3$d, 127.0.0.1:%4$d], connectTimeout: 500ms}
          - name: failover
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%3$d, 127.0.0.1:%5$d], connectTimeout: 500ms}
          - name: balanced
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%6$d, 127.0.0.1:%7$d], balance: round-robin}
        """.formatted(ProxyFixture.certificates(proxyCert), echo.port(), Ports.unused(), Ports.unused(),
        failoverEcho.port(), balancedA.port(), balancedB.port()));
  }

  /** Blocks until the proxy ends the connection (end of stream or reset); returns how long that took. */
  private static Duration timeUntilClosed(Socket s, long startNanos) throws IOException {
    Clients.discardUntilEnd(s);
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  private void assertClosedWith(String reason, String listener, Socket s) {
    String line = logs.closingLine(listener, s);
    assertTrue(line.endsWith(" close=" + reason), line);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void silentClientIsClosedAfterHandshakeTimeout() throws Exception {
    long start = System.nanoTime();
    try (Socket s = Clients.plain(proxy.port("handshake"))) {
      Duration took = timeUntilClosed(s, start);
      assertTrue(took.compareTo(Duration.ofMillis(400)) >= 0, "closed too early: " + took);
      assertTrue(took.compareTo(Duration.ofSeconds(3)) < 0, "closed too late: " + took);
      assertClosedWith("handshake_failed:timeout", "handshake", s);
    }
  }

  @Test
  void idleConnectionIsClosedWhileBusyOneStaysOpen() throws Exception {
    try (Socket idle = Clients.plain(proxy.port("idle")); Socket busy = Clients.plain(proxy.port("idle"))) {
      assertArrayEquals(bytes("x"), Clients.echo(idle, bytes("x")));
      long idleSince = System.nanoTime();
      CompletableFuture<Duration> idleClosed = CompletableFuture.supplyAsync(() -> {
        try {
          return timeUntilClosed(idle, idleSince);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      // Three idle timeouts' worth of traffic, a byte every 100 ms.
      long busyUntil = System.nanoTime() + SHORT.multipliedBy(3).toNanos();
      for (int i = 0; i < 100 && System.nanoTime() < busyUntil; i++) {
        assertArrayEquals(bytes("b"), Clients.echo(busy, bytes("b")), "busy connection, round " + i);
        Thread.sleep(100);
      }
      Duration took = idleClosed.get(5, TimeUnit.SECONDS);
      assertTrue(took.compareTo(Duration.ofMillis(400)) >= 0, "idle connection closed too early: " + took);
      assertTrue(took.compareTo(Duration.ofSeconds(3)) < 0, "idle connection closed too late: " + took);
      assertClosedWith("idle_timeout", "idle", idle);
      assertArrayEquals(bytes("still here"), Clients.echo(busy, bytes("still here")));
    }
  }

  @Test
  void clientIsClosedPromptlyWhenEveryEndpointRefuses() throws Exception {
    long start = System.nanoTime();
    try (Socket s = Clients.plain(proxy.port("all-down"))) {
      Duration took = timeUntilClosed(s, start);
      // Two endpoints with connectTimeout 500ms each bound it (a refusal is much quicker), plus slack for a
      // loaded machine.
      assertTrue(took.compareTo(SHORT.multipliedBy(2).plusSeconds(1)) < 0, "closed too late: " + took);
      assertClosedWith("upstream_unavailable:refused", "all-down", s);
    }
  }

  @Test
  void deadFirstEndpointFailsOverToSecond() throws Exception {
    try (Socket s = Clients.plain(proxy.port("failover"))) {
      assertArrayEquals(bytes("via the second"), Clients.echo(s, bytes("via the second")));
      s.shutdownOutput();
      assertEquals(-1, s.getInputStream().read());
      String line = logs.closingLine("failover", s);
      assertTrue(line.contains(" upstream=127.0.0.1:" + failoverEcho.port() + " "), line);
    }
    assertEquals(1, failoverEcho.served());
  }

  @Test
  void roundRobinSpreadsConnectionsAcrossBothEndpoints() throws Exception {
    int connections = 6;
    for (int i = 0; i < connections; i++) {
      try (Socket s = Clients.plain(proxy.port("balanced"))) {
        assertArrayEquals(bytes("n" + i), Clients.echo(s, bytes("n" + i)));
      }
    }
    Await.until("both backends to have counted their connections", Duration.ofSeconds(5),
        () -> balancedA.served() + balancedB.served() == connections);
    assertEquals(connections / 2, balancedA.served(), "connections to the first endpoint");
    assertEquals(connections / 2, balancedB.served(), "connections to the second endpoint");
  }
}
