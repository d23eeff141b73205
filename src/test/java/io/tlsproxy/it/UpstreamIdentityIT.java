package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.auth.SpkiPin;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Upstream identity beyond the host name: the upstream's leaf must carry one of verifyUris/verifyDnsNames and
 * hold a pinned key, and must not be revoked. A mismatching upstream gets no byte and the client is closed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpstreamIdentityIT {

  private static final byte[] HELLO = "hello upstream".getBytes(StandardCharsets.UTF_8);
  private static final String SPIFFE = "spiffe://prod.example/ns/db/sa/postgres";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  /** One backend per listener, so that "nothing reached it" is about that listener alone. */
  private final Map<String, TestServer> backends = new LinkedHashMap<>();
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("upstream-ca");
    TestPki.Issued good = pki.server(ca, "backend.test", "backend.test", SPIFFE);
    TestPki.Issued revoked = pki.server(ca, "backend.test", "backend.test");
    TestPki.Issued sameNameOtherKey = pki.server(ca, "backend.test", "backend.test", SPIFFE);
    Path crl = pki.crl(ca, revoked);
    String pin = SpkiPin.of(good.cert());
    Map<String, Object[]> listeners = new LinkedHashMap<>();
    listeners.put("uri-ok", new Object[] {good, "verifyUris: [\"spiffe://prod.example/ns/db/sa/*\"]"});
    listeners.put("uri-bad", new Object[] {good, "verifyUris: [\"spiffe://prod.example/ns/web/sa/*\"]"});
    listeners.put("uri-deeper", new Object[] {good, "verifyUris: [\"spiffe://prod.example/ns/*\"]"});
    listeners.put("dns-ok", new Object[] {good, "verifyDnsNames: [backend.test]"});
    listeners.put("dns-bad", new Object[] {good, "verifyDnsNames: [db.test]"});
    listeners.put("pin-ok", new Object[] {good, "spkiSha256: [\"" + pin + "\"]"});
    listeners.put("pin-bad", new Object[] {sameNameOtherKey, "spkiSha256: [\"" + pin + "\"]"});
    listeners.put("crl-ok", new Object[] {good, "crl: " + crl});
    listeners.put("crl-revoked", new Object[] {revoked, "crl: " + crl});
    StringBuilder yaml = new StringBuilder("listeners:\n");
    for (Map.Entry<String, Object[]> e : listeners.entrySet()) {
      TestPki.Issued cert = (TestPki.Issued) e.getValue()[0];
      TestServer backend = fx.tlsEchoBackend(cert);
      backends.put(e.getKey(), backend);
      yaml.append("""
            - {name: %s, listen: 127.0.0.1:0,
               upstream: {endpoints: [127.0.0.1:%d], tls: {serverName: backend.test, ca: %s, %s}}}
          """.formatted(e.getKey(), backend.port(), ca.certFile(), e.getValue()[1]));
    }
    logs = fx.logs();
    proxy = fx.start(yaml.toString());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"uri-ok", "dns-ok", "pin-ok", "crl-ok"})
  void matchingUpstreamIsUsed(String listener) throws Exception {
    try (Socket s = Clients.plain(proxy.port(listener))) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
    }
    assertEquals(HELLO.length, backends.get(listener).bytesReceived());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "uri-bad,     peer_not_allowed,    verifyUris",
      "uri-deeper,  peer_not_allowed,    verifyUris",
      "dns-bad,     peer_not_allowed,    verifyDnsNames",
      "pin-bad,     peer_not_allowed,    spkiSha256",
      "crl-revoked, certificate_revoked, ''"})
  void mismatchingUpstreamGetsNothing(String listener, String reason, String ruleSet) throws Exception {
    double before = failures(listener, reason);
    try (Socket s = Clients.plain(proxy.port(listener))) {
      s.getOutputStream().write(HELLO);
      s.getOutputStream().flush();
      Clients.assertClosedWithoutReply(s);
      String line = logs.connectionLineOf(listener, s);
      assertTrue(line.endsWith(" close=upstream_unavailable:tls:" + reason), line);
      assertTrue(line.contains(ruleSet), line);
    }
    TestServer backend = backends.get(listener);
    assertEquals(0, backend.served(), "handshakes the backend completed");
    assertEquals(0, backend.bytesReceived(), "application bytes the backend received");
    assertEquals(before + 1, failures(listener, reason), "upstream handshake failures with reason " + reason);
  }

  private double failures(String listener, String reason) throws Exception {
    return Scrape.of(proxy.adminPort()).sum("tlsproxy_tls_handshake_failures_total", "listener", listener,
        "side", "upstream", "reason", reason);
  }
}
