package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.TlsAttempt;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Client certificates on both legs: a listener that requires one refuses clients without it or with one from
 * another CA and logs the subject of the ones it admits; towards the upstream, the proxy presents its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MutualTlsIT {

  private static final byte[] HELLO = "hello with a certificate".getBytes(StandardCharsets.UTF_8);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki pki;
  private TestPki.Issued serverCa;
  private TestPki.Issued clientCa;
  private TestPki.Issued rogueCa;
  private TestServer mtlsBackendForCertified;
  private TestServer mtlsBackendForUncertified;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    pki = fx.pki();
    serverCa = pki.ca("server-ca");
    clientCa = pki.ca("client-ca");
    rogueCa = pki.ca("rogue-ca");
    TestPki.Issued proxyCert = pki.server(serverCa, "proxy.test", "proxy.test");
    TestPki.Issued backendCert = pki.server(serverCa, "backend.test", "backend.test");
    TestPki.Issued proxyClientCert = pki.client(clientCa, "tlsproxy-client");
    TestServer echo = fx.echoBackend();
    mtlsBackendForCertified = fx.tlsBackend(backendCert, clientCa, TestServer::echo);
    mtlsBackendForUncertified = fx.tlsBackend(backendCert, clientCa, TestServer::echo);
    logs = fx.logs();
    String downstream = ProxyFixture.certificates(proxyCert) + ", clientCa: " + clientCa.certFile();
    String upstream = "serverName: backend.test, ca: " + serverCa.certFile();
    proxy = fx.start("""
        listeners:
          - name: required
            listen: 127.0.0.1:0
            tls: {%1$s, clientAuth: required}
            upstream: {endpoints: [127.0.0.1:%2$d]}
          - name: optional
            listen: 127.0.0.1:0
            tls: {%1$s, clientAuth: optional}
            upstream: {endpoints: [127.0.0.1:%2$d]}
          - name: upstream-certified
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%3$d], tls: {%5$s, cert: %6$s, key: %7$s}}
          - name: upstream-uncertified
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%4$d], tls: {%5$s}}
        """.formatted(downstream, echo.port(), mtlsBackendForCertified.port(), mtlsBackendForUncertified.port(),
        upstream, proxyClientCert.certFile(), proxyClientCert.keyFile()));
  }

  @Test
  void requiredClientAuthRefusesClientWithoutCertificate() throws Exception {
    assertRefused("required", TestPki.clientContext(serverCa, null), "handshake_failed:no_client_certificate");
  }

  @Test
  void requiredClientAuthRefusesCertificateFromAnotherCa() throws Exception {
    SSLContext mallory = TestPki.clientContextPresentingAnyway(serverCa, pki.client(rogueCa, "mallory"));
    assertRefused("required", mallory, "handshake_failed:unknown_ca");
  }

  @Test
  void requiredClientAuthAdmitsCertificateFromClientCaAndLogsItsSubject() throws Exception {
    String line = admitted("required", TestPki.clientContext(serverCa, pki.client(clientCa, "alice")));
    assertTrue(line.contains(" peer=\"CN=alice\" "), line);
  }

  @Test
  void optionalClientAuthAdmitsClientWithoutCertificate() throws Exception {
    String line = admitted("optional", TestPki.clientContext(serverCa, null));
    assertFalse(line.contains(" peer="), line);
  }

  @Test
  void optionalClientAuthAdmitsCertificateFromClientCaAndLogsItsSubject() throws Exception {
    String line = admitted("optional", TestPki.clientContext(serverCa, pki.client(clientCa, "bob")));
    assertTrue(line.contains(" peer=\"CN=bob\" "), line);
  }

  @Test
  void optionalClientAuthStillRefusesCertificateFromAnotherCa() throws Exception {
    SSLContext mallory = TestPki.clientContextPresentingAnyway(serverCa, pki.client(rogueCa, "mallory"));
    assertRefused("optional", mallory, "handshake_failed:unknown_ca");
  }

  @Test
  void upstreamRequiringClientCertificateSeesTheProxysCertificate() throws Exception {
    try (Socket s = Clients.plain(proxy.port("upstream-certified"))) {
      assertEquals(new String(HELLO, StandardCharsets.UTF_8),
          new String(Clients.echo(s, HELLO), StandardCharsets.UTF_8));
    }
    assertEquals(List.of("CN=tlsproxy-client"), List.copyOf(mtlsBackendForCertified.peerSubjects()));
  }

  @Test
  void upstreamRequiringClientCertificateGetsNothingFromProxyWithoutOne() throws Exception {
    String line;
    try (Socket s = Clients.plain(proxy.port("upstream-uncertified"))) {
      s.getOutputStream().write(HELLO);
      s.getOutputStream().flush();
      Clients.assertClosedWithoutReply(s);
      line = logs.connectionLineOf("upstream-uncertified", s);
    }
    assertEquals(0, mtlsBackendForUncertified.served(), "handshakes the backend completed");
    assertEquals(0, mtlsBackendForUncertified.bytesReceived(), "application bytes the backend received");
    // RFC 8446 names the alert certificate_required; JDK 17 servers send bad_certificate instead.
    assertTrue(line.endsWith(" close=upstream_unavailable:tls:no_client_certificate")
        || line.endsWith(" close=upstream_unavailable:tls:bad_certificate"), line);
  }

  /** The connection must fail, at the handshake or at the first read, without reaching the upstream. */
  private void assertRefused(String listener, SSLContext client, String reason) throws Exception {
    try (TlsAttempt a = TlsAttempt.echo(client, proxy.port(listener), "proxy.test", HELLO)) {
      assertFalse(a.succeeded(), a::toString);
      String line = logs.connectionLineOf(listener, a.socket());
      assertTrue(line.endsWith(" close=" + reason), line);
      assertFalse(line.contains(" upstream="), line);
    }
  }

  /** Echoes once through {@code listener} and returns the connection's closing log line. */
  private String admitted(String listener, SSLContext client) throws Exception {
    TlsAttempt a = TlsAttempt.echo(client, proxy.port(listener), "proxy.test", HELLO);
    a.close();
    assertTrue(a.succeeded(), a::toString);
    return logs.connectionLineOf(listener, a.socket());
  }
}
