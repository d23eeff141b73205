package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.proxyproto.DecodeResult;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.ProxyHeaderBackend;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Active health checks: a backend that dies is taken out (gauge 0, connections go to the others without trying
 * it) and comes back when it listens again on its port; a TLS check fails against a certificate the upstream
 * would refuse; {@code /readyz} can depend on a healthy endpoint.
 */
class UpstreamHealthIT {

  /** Fast checks: two failures (or passes) take about a second, with room for a slow TLS handshake under load. */
  private static final String CHECK = "{interval: 500ms, timeout: 400ms, unhealthyThreshold: 2, healthyThreshold: 2";
  private static final Duration WITHIN = Duration.ofSeconds(10);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private ProxyHarness proxy;

  private double up(String listener, String endpoint) throws Exception {
    return Scrape.of(proxy.adminPort()).sum("tlsproxy_upstream_endpoint_up", "listener", listener, "endpoint",
        endpoint);
  }

  private boolean gaugeIs(String listener, String endpoint, double value) {
    try {
      return Scrape.of(proxy.adminPort()).text().contains("tlsproxy_upstream_endpoint_up{endpoint=\"" + endpoint
          + "\",listener=\"" + listener + "\"} " + value);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Connects through {@code listener}, returns the greeting of the backend that served it, checks an echo. */
  private String servedBy(String listener) throws Exception {
    try (Socket s = Clients.plain(proxy.port(listener))) {
      String who = Clients.readLine(s);
      byte[] msg = "ping".getBytes(StandardCharsets.UTF_8);
      assertArrayEquals(msg, Clients.echo(s, msg));
      return who;
    }
  }

  @Test
  void deadEndpointIsTakenOutAndReturnsWhenItListensAgainOnItsPort() throws Exception {
    LogCapture logs = fx.logs();
    TestServer a = fx.backend(TestServer.greeting("a"));
    TestServer b = fx.backend(TestServer.greeting("b"));
    String ea = "127.0.0.1:" + a.port();
    String eb = "127.0.0.1:" + b.port();
    proxy = fx.start("""
        listeners:
          - name: lb
            listen: 127.0.0.1:0
            upstream: {endpoints: [%s, %s], balance: round-robin, healthCheck: %s}}
        """.formatted(ea, eb, CHECK));
    Await.until("both endpoints up", WITHIN, () -> gaugeIs("lb", ea, 1.0) && gaugeIs("lb", eb, 1.0));

    int port = a.port();
    a.close();
    Await.until("the dead endpoint's gauge drops to 0", WITHIN, () -> gaugeIs("lb", ea, 0.0));
    assertEquals(1.0, up("lb", eb));
    logs.await(l -> l.startsWith("WARNING listener=lb upstream " + ea + " is unhealthy after 2 failed checks"),
        WITHIN);
    Scrape before = Scrape.of(proxy.adminPort());
    for (int i = 0; i < 6; i++) {
      assertEquals("b", servedBy("lb"), "connection " + i);
    }
    assertEquals(before.sum("tlsproxy_upstream_connect_failures_total", "endpoint", ea),
        Scrape.of(proxy.adminPort()).sum("tlsproxy_upstream_connect_failures_total", "endpoint", ea),
        "an unhealthy endpoint is skipped, not tried first and failed over");

    fx.closing(TestServer.plainOn(InetAddress.getLoopbackAddress(), port, TestServer.greeting("a")));
    Await.until("the restarted endpoint's gauge is back to 1", WITHIN, () -> gaugeIs("lb", ea, 1.0));
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 4; i++) {
      seen.add(servedBy("lb"));
    }
    assertEquals(Set.of("a", "b"), seen, "round-robin over both again");
  }

  @Test
  void tlsCheckFailsAgainstAnUntrustedCertificateAndPassesAgainstATrustedOne() throws Exception {
    LogCapture logs = fx.logs();
    TestPki pki = fx.pki();
    TestPki.Issued trusted = pki.ca("health-ca");
    TestPki.Issued rogue = pki.ca("rogue-ca");
    TestServer a = fx.tlsEchoBackend(pki.server(rogue, "backend.test", "backend.test"));
    TestServer b = fx.tlsEchoBackend(pki.server(trusted, "backend.test", "backend.test"));
    String tls = "tls: {serverName: backend.test, ca: %s}".formatted(trusted.certFile());
    proxy = fx.start("""
        listeners:
          - name: untrusted
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s, healthCheck: %s}}
          - name: trusted
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s, healthCheck: %s}}
        """.formatted(a.port(), tls, CHECK, b.port(), tls, CHECK));
    Await.until("the untrusted endpoint is down", WITHIN, () -> gaugeIs("untrusted", "127.0.0.1:" + a.port(), 0.0));
    logs.await(l -> l.contains("listener=untrusted upstream 127.0.0.1:" + a.port() + " is unhealthy")
        && l.endsWith("last: tls:unknown_ca"), WITHIN);
    Await.until("the trusted endpoint has passed checks", WITHIN, () -> b.served() >= 2);
    assertEquals(1.0, up("trusted", "127.0.0.1:" + b.port()), "a TLS check against a trusted certificate passes");
    assertEquals(0, a.served(), "no handshake with the untrusted backend completed");
  }

  /** Like HAProxy's check-send-proxy: without the header, such an upstream would fail every check. */
  @Test
  void tlsCheckSendsALocalProxyHeaderToAnUpstreamThatExpectsOne() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("health-ca");
    ProxyHeaderBackend backend = fx.closing(ProxyHeaderBackend.tls(
        TestPki.serverContext(pki.server(ca, "backend.test", "backend.test"), null)));
    proxy = fx.start("""
        listeners:
          - name: behind-lb
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], proxyProtocol: v2, tls: {serverName: backend.test, ca: %s},
                       healthCheck: %s}}
        """.formatted(backend.port(), ca.certFile(), CHECK));
    DecodeResult.Decoded header = backend.await(d -> d.header().command() == ProxyHeader.Command.LOCAL);
    assertEquals(2, header.version());
    Await.until("three checks have reached the backend", WITHIN, () -> backend.results().size() >= 3);
    assertTrue(gaugeIs("behind-lb", "127.0.0.1:" + backend.port(), 1.0), "more checks than the unhealthy "
        + "threshold ran, and the endpoint is still up");
    assertTrue(backend.results().stream().allMatch(r -> r instanceof DecodeResult.Decoded),
        "every check began with a header: " + backend.results());
  }

  @Test
  void readyzIs503WhileARequiredUpstreamHasNoHealthyEndpoint() throws Exception {
    int port = Ports.unused();
    int otherDead = Ports.unused();
    proxy = fx.start("""
        listeners:
          - name: required
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], healthCheck: %s, requiredForReady: true}}
          - name: optional
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], healthCheck: %s}}
        """.formatted(port, CHECK, otherDead, CHECK));
    Await.until("/readyz answers 503", WITHIN, () -> readyz().statusCode() == 503);
    HttpResponse<String> r = readyz();
    assertEquals("no healthy upstream endpoint for listener required\n", r.body());

    fx.closing(TestServer.plainOn(InetAddress.getLoopbackAddress(), port, TestServer::echo));
    Await.until("/readyz answers 200 once the endpoint is healthy", WITHIN, () -> readyz().statusCode() == 200);
    assertEquals(0.0, up("optional", "127.0.0.1:" + otherDead), "an upstream not required for readiness may be down");
  }

  private HttpResponse<String> readyz() {
    try {
      return Scrape.get(proxy.adminPort(), "/readyz", null);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
