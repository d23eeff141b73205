package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.DanteProxy;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.SquidProxy;
import io.tlsproxy.testkit.SystemUser;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Originating TLS through egress proxies: Debian's squid (HTTP CONNECT, with and without basic authentication)
 * and danted (SOCKS5, with and without username/password), started on loopback. The TLS inside the tunnel is
 * verified against the endpoint's own name, which the proxy resolves; the proxy's refusals, a wrong password and
 * a proxy that never answers each fail the connection with their own reason, in the access log and the metric.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EgressProxyIT {

  private static final byte[] HELLO = "hello through the tunnel".getBytes(StandardCharsets.UTF_8);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private ProxyHarness proxy;
  private LogCapture logs;
  private TestServer backend;
  private TestServer wrongName;
  private TestServer refusedTarget;
  private SquidProxy squidOpen;
  private DanteProxy danteOpen;
  private DanteProxy danteAuth;

  @BeforeAll
  void start() throws Exception {
    assumeTrue(SystemUser.canManage(), "danted checks SOCKS5 passwords against system users: needs root");
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("egress-ca");
    // The endpoints are named localhost: the proxies resolve that name, and the certificate must match it.
    backend = fx.tlsEchoBackend(pki.server(ca, "localhost", "localhost"));
    wrongName = fx.tlsEchoBackend(pki.server(ca, "other.test", "other.test"));
    refusedTarget = fx.tlsEchoBackend(pki.server(ca, "localhost", "localhost"));
    SystemUser user = SystemUser.withFreshPassword();

    squidOpen = fx.closing(SquidProxy.start(fx.dir(), "squid-open", null, null, refusedTarget.port()));
    SquidProxy squidAuth = fx.closing(SquidProxy.start(fx.dir(), "squid-auth", "alice", "s3cret-alice"));
    danteOpen = fx.closing(DanteProxy.start(fx.dir(), "dante-open", false, refusedTarget.port()));
    danteAuth = fx.closing(DanteProxy.start(fx.dir(), "dante-auth", true));
    // Accepts (the kernel completes the TCP handshake) and never answers.
    ServerSocket silent = fx.closing(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    int nothing = Ports.unused();

    String tls = "tls: {ca: %s}".formatted(ca.certFile());
    StringBuilder yaml = new StringBuilder("listeners:\n");
    Object[][] listeners = {
        {"squid", backend, "{type: http-connect, address: '%s'}".formatted(squidOpen.address())},
        {"squid-wrong-name", wrongName, "{type: http-connect, address: '%s'}".formatted(squidOpen.address())},
        {"squid-denied", refusedTarget, "{type: http-connect, address: '%s'}".formatted(squidOpen.address())},
        {"squid-auth", backend, "{type: http-connect, address: '%s', username: alice, password: s3cret-alice}"
            .formatted(squidAuth.address())},
        {"squid-bad-password", backend, "{type: http-connect, address: '%s', username: alice, password: nope}"
            .formatted(squidAuth.address())},
        {"squid-no-credentials", backend, "{type: http-connect, address: '%s'}".formatted(squidAuth.address())},
        {"socks", backend, "{type: socks5, address: '%s'}".formatted(danteOpen.address())},
        {"socks-wrong-name", wrongName, "{type: socks5, address: '%s'}".formatted(danteOpen.address())},
        {"socks-blocked", refusedTarget, "{type: socks5, address: '%s'}".formatted(danteOpen.address())},
        {"socks-auth", backend, "{type: socks5, address: '%s', username: %s, password: %s}"
            .formatted(danteAuth.address(), user.name(), user.password())},
        {"socks-bad-password", backend, "{type: socks5, address: '%s', username: %s, password: nope}"
            .formatted(danteAuth.address(), user.name())},
        {"socks-no-credentials", backend, "{type: socks5, address: '%s'}".formatted(danteAuth.address())},
        {"silent-http", backend, "{type: http-connect, address: '127.0.0.1:%d'}".formatted(silent.getLocalPort())},
        {"silent-socks", backend, "{type: socks5, address: '127.0.0.1:%d'}".formatted(silent.getLocalPort())},
        {"proxy-down", backend, "{type: socks5, address: '127.0.0.1:%d'}".formatted(nothing)},
    };
    for (Object[] l : listeners) {
      yaml.append("""
            - name: %s
              listen: 127.0.0.1:0
              upstream: {endpoints: ['localhost:%d'], connectTimeout: 1500ms, %s, via: %s}
          """.formatted(l[0], ((TestServer) l[1]).port(), tls, l[2]));
    }
    logs = fx.logs();
    proxy = fx.start(yaml.toString());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"squid", "squid-auth", "socks", "socks-auth"})
  void tlsThroughTheTunnelReachesTheBackendAndIsVerifiedByItsName(String listener) throws Exception {
    long before = backend.bytesReceived();
    Socket client;
    try (Socket s = Clients.plain(proxy.port(listener))) {
      client = s;
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
    }
    // After the close: the line is written when the connection ends.
    String line = logs.connectionLineOf(listener, client);
    assertTrue(line.contains(" upstream=localhost:" + backend.port() + " "), line);
    assertTrue(line.contains(" upstream_tls=TLSv1.3/"), line);
    Await.until("the backend counted the bytes", Duration.ofSeconds(10),
        () -> backend.bytesReceived() >= before + HELLO.length);
  }

  @Test
  void theProxiesCarriedTheTunnelsToTheEndpointsName() throws Exception {
    tlsThroughTheTunnelReachesTheBackendAndIsVerifiedByItsName("squid");
    tlsThroughTheTunnelReachesTheBackendAndIsVerifiedByItsName("socks");
    String target = "localhost:" + backend.port();
    Await.until("squid logged the tunnel", Duration.ofSeconds(10), () -> squidOpen.logged("CONNECT " + target));
    // danted names the address it dialled after resolving localhost itself (remote DNS).
    Await.until("danted logged the tunnel", Duration.ofSeconds(10),
        () -> danteOpen.output().contains("127.0.0.1." + backend.port()));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "squid-wrong-name,     tls:hostname_mismatch, tls",
      "socks-wrong-name,     tls:hostname_mismatch, tls",
      "squid-bad-password,   proxy_auth,            proxy_auth",
      "squid-no-credentials, proxy_auth,            proxy_auth",
      "socks-bad-password,   proxy_auth,            proxy_auth",
      "socks-no-credentials, proxy_auth,            proxy_auth",
      "squid-denied,         proxy_refused,         proxy_refused",
      "socks-blocked,        proxy_refused,         proxy_refused",
      "proxy-down,           proxy_refused,         proxy_refused",
      "silent-http,          proxy_timeout,         proxy_timeout",
      "silent-socks,         proxy_timeout,         proxy_timeout"})
  void failedTunnelClosesTheClientWithItsReason(String listener, String close, String metricReason)
      throws Exception {
    double before = failures(listener, metricReason);
    try (Socket s = Clients.plain(proxy.port(listener))) {
      s.getOutputStream().write(HELLO);
      s.getOutputStream().flush();
      Clients.assertClosedWithoutReply(s);
      String line = logs.connectionLineOf(listener, s);
      assertTrue(line.endsWith(" close=upstream_unavailable:" + close), line);
    }
    assertEquals(before + 1, failures(listener, metricReason), "tlsproxy_upstream_connect_failures_total");
    assertEquals(0, wrongName.bytesReceived(), "application bytes the wrongly named backend received");
  }

  @Test
  void healthChecksGoThroughTheProxyAndFollowTheEndpoint() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("health-ca");
    TestServer alive = fx.tlsEchoBackend(pki.server(ca, "localhost", "localhost"));
    String check = "healthCheck: {interval: 500ms, timeout: 400ms, unhealthyThreshold: 2, healthyThreshold: 1}";
    String upstream = "{endpoints: ['localhost:%d'], tls: {ca: %s}, %s, via: {type: %s, address: '%s'}}";
    ProxyHarness checked = fx.start("""
        listeners:
          - name: through-squid
            listen: 127.0.0.1:0
            upstream: %s
          - name: through-dante
            listen: 127.0.0.1:0
            upstream: %s
          - name: squid-denies
            listen: 127.0.0.1:0
            upstream: %s
        """.formatted(
        upstream.formatted(alive.port(), ca.certFile(), check, "http-connect", squidOpen.address()),
        upstream.formatted(alive.port(), ca.certFile(), check, "socks5", danteOpen.address()),
        upstream.formatted(refusedTarget.port(), ca.certFile(), check, "http-connect", squidOpen.address())));
    String aliveEndpoint = "localhost:" + alive.port();
    Await.until("both proxied endpoints up", Duration.ofSeconds(15),
        () -> up(checked, "through-squid", aliveEndpoint) == 1 && up(checked, "through-dante", aliveEndpoint) == 1);
    Await.until("the endpoint squid refuses down", Duration.ofSeconds(15),
        () -> up(checked, "squid-denies", "localhost:" + refusedTarget.port()) == 0);
    Await.until("squid saw the checks", Duration.ofSeconds(10), () -> squidOpen.logged("CONNECT " + aliveEndpoint));

    alive.close();
    Await.until("the closed endpoint down through both proxies", Duration.ofSeconds(15),
        () -> up(checked, "through-squid", aliveEndpoint) == 0 && up(checked, "through-dante", aliveEndpoint) == 0);
  }

  /** The endpoint's health gauge, -1 while it is not there yet. */
  private static double up(ProxyHarness p, String listener, String endpoint) {
    try {
      String text = Scrape.of(p.adminPort()).text();
      String series = "tlsproxy_upstream_endpoint_up{endpoint=\"" + endpoint + "\",listener=\"" + listener + "\"} ";
      int at = text.indexOf(series);
      if (at < 0) {
        return -1;
      }
      int end = text.indexOf('\n', at);
      return Double.parseDouble(text.substring(at + series.length(), end).trim());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private double failures(String listener, String reason) throws Exception {
    return Scrape.of(proxy.adminPort()).sum("tlsproxy_upstream_connect_failures_total", "listener", listener,
        "reason", reason);
  }
}
