package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.auth.SpkiPin;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.TlsAttempt;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Client allow-lists and revocation on a listener, with real clients: each rule kind admits the clients it
 * names and refuses the others during the handshake, with reason client_not_allowed in the log and the metric;
 * an empty list refuses everyone; a revoked client certificate is refused with certificate_revoked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientIdentityIT {

  private static final byte[] HELLO = "hello, it's me".getBytes(StandardCharsets.UTF_8);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki pki;
  private TestPki.Issued serverCa;
  private TestPki.Issued clientCa;
  private final Map<String, TestPki.Issued> clients = new HashMap<>();
  private TestServer echo;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    pki = fx.pki();
    serverCa = pki.ca("server-ca");
    clientCa = pki.ca("client-ca");
    TestPki.Issued proxyCert = pki.server(serverCa, "proxy.test", "proxy.test");
    clients.put("billing", pki.client(clientCa, "billing"));
    clients.put("mallory", pki.client(clientCa, "mallory"));
    clients.put("dns-one-label", pki.client(clientCa, "x", "billing.svc.cluster.local"));
    clients.put("dns-two-labels", pki.client(clientCa, "x", "api.billing.svc.cluster.local"));
    clients.put("spiffe-api", pki.client(clientCa, "x", "spiffe://prod.example/ns/billing/api"));
    clients.put("spiffe-sa-api", pki.client(clientCa, "x", "spiffe://prod.example/ns/billing/sa/api"));
    clients.put("spiffe-ns", pki.client(clientCa, "x", "spiffe://prod.example/ns/billing"));
    clients.put("spiffe-other-domain", pki.client(clientCa, "x", "spiffe://dev.example/ns/billing/api"));
    clients.put("pinned", pki.client(clientCa, "pinned"));
    clients.put("pinned-name-other-key", pki.client(clientCa, "pinned"));
    clients.put("revoked", pki.client(clientCa, "revoked"));
    Path crl = pki.crl(clientCa, clients.get("revoked"));
    echo = fx.echoBackend();
    logs = fx.logs();
    String tls = ProxyFixture.certificates(proxyCert) + ", clientCa: " + clientCa.certFile();
    proxy = fx.start("""
        listeners:
          - {name: cn, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%2$d]},
             tls: {%1$s, clientAuth: required, allow: {commonNames: [billing]}}}
          - {name: dns, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%2$d]},
             tls: {%1$s, clientAuth: required, allow: {dnsNames: ["*.svc.cluster.local"]}}}
          - {name: uri-one, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%2$d]},
             tls: {%1$s, clientAuth: required, allow: {uris: ["spiffe://prod.example/ns/billing/*"]}}}
          - {name: uri-many, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%2$d]},
             tls: {%1$s, clientAuth: required, allow: {uris: ["spiffe://prod.example/ns/billing/**"]}}}
          - {name: spki, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%2$d]},
             tls: {%1$s, clientAuth: required, allow: {spkiSha256: ["%3$s"]}}}
          - {name: empty, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%2$d]},
             tls: {%1$s, clientAuth: required, allow: {}}}
          - {name: optional, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%2$d]},
             tls: {%1$s, clientAuth: optional, allow: {commonNames: [billing]}}}
          - {name: crl, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%2$d]},
             tls: {%1$s, clientAuth: required, crl: %4$s}}
        """.formatted(tls, echo.port(), SpkiPin.of(clients.get("pinned").cert()), crl));
  }

  @ParameterizedTest(name = "{0} admits {1}")
  @CsvSource({
      "cn,       billing",
      "dns,      dns-one-label",
      "uri-one,  spiffe-api",
      "uri-many, spiffe-api",
      "uri-many, spiffe-sa-api",
      "spki,     pinned",
      "optional, billing",
      "crl,      billing"})
  void ruleAdmitsTheClientItNames(String listener, String client) throws Exception {
    try (TlsAttempt a = TlsAttempt.echo(context(client), proxy.port(listener), "proxy.test", HELLO)) {
      assertTrue(a.succeeded(), a::toString);
      a.close();
      String line = logs.connectionLineOf(listener, a.socket());
      assertFalse(line.contains(" refused="), line);
    }
  }

  @ParameterizedTest(name = "{0} refuses {1}")
  @CsvSource({
      "cn,       mallory,               listeners[0].tls.allow.commonNames",
      "dns,      dns-two-labels,        listeners[1].tls.allow.dnsNames",
      "dns,      billing,               listeners[1].tls.allow.dnsNames",
      "uri-one,  spiffe-sa-api,         listeners[2].tls.allow.uris",
      "uri-one,  spiffe-ns,             listeners[2].tls.allow.uris",
      "uri-many, spiffe-ns,             listeners[3].tls.allow.uris",
      "uri-many, spiffe-other-domain,   listeners[3].tls.allow.uris",
      "spki,     pinned-name-other-key, listeners[4].tls.allow.spkiSha256",
      "empty,    billing,               listeners[5].tls.allow is empty and admits nobody",
      "optional, mallory,               listeners[6].tls.allow.commonNames"})
  void ruleRefusesOtherClientsDuringTheHandshake(String listener, String client, String ruleSet)
      throws Exception {
    String line = assertRefused(listener, context(client), "client_not_allowed");
    assertTrue(line.contains(" refused=\"CN=" + clients.get(client).cert().getSubjectX500Principal().getName()
        .substring(3)), line);
    assertTrue(line.contains(ruleSet), line);
  }

  @Test
  void optionalClientAuthWithAllowListRefusesClientWithoutCertificate() throws Exception {
    assertRefused("optional", TestPki.clientContext(serverCa, null), "no_client_certificate");
  }

  @Test
  void revokedClientIsRefusedWithCertificateRevoked() throws Exception {
    assertRefused("crl", context("revoked"), "certificate_revoked");
  }

  private SSLContext context(String client) {
    return TestPki.clientContext(serverCa, clients.get(client));
  }

  /**
   * The connection fails at the handshake or, in TLS 1.3, at the first read; nothing reaches the upstream; the
   * log says why and the failure metric for that reason moves by exactly one.
   */
  private String assertRefused(String listener, SSLContext client, String reason) throws Exception {
    double before = failures(listener, reason);
    long bytesBefore = echo.bytesReceived();
    try (TlsAttempt a = TlsAttempt.echo(client, proxy.port(listener), "proxy.test", HELLO)) {
      assertFalse(a.succeeded(), a::toString);
      String line = logs.connectionLineOf(listener, a.socket());
      assertTrue(line.endsWith(" close=handshake_failed:" + reason), line);
      assertFalse(line.contains(" upstream="), line);
      assertEquals(before + 1, failures(listener, reason), "handshake failures with reason " + reason);
      assertEquals(bytesBefore, echo.bytesReceived(), "bytes that reached the upstream");
      return line;
    }
  }

  private double failures(String listener, String reason) throws Exception {
    return Scrape.of(proxy.adminPort()).sum("tlsproxy_tls_handshake_failures_total", "listener", listener,
        "side", "downstream", "reason", reason);
  }
}
