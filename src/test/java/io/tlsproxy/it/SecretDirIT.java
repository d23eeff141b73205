package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.TlsAttempt;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kubernetes TLS Secrets mounted as directories (tls.crt, tls.key, ca.crt behind ..data symlinks) serve as the
 * listener's certificate, as the trust for client certificates and as the upstream client certificate and trust.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecretDirIT {

  private static final byte[] HELLO = "hello from a secret".getBytes(StandardCharsets.UTF_8);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki pki;
  private TestPki.Issued serverCa;
  private TestPki.Issued clientCa;
  private TestPki.Issued proxyCert;
  private TestServer backend;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    pki = fx.pki();
    serverCa = pki.ca("server-ca");
    clientCa = pki.ca("client-ca");
    proxyCert = pki.server(serverCa, "proxy.test", "proxy.test");
    TestPki.Issued backendCert = pki.server(serverCa, "backend.test", "backend.test");
    TestPki.Issued proxyClient = pki.client(clientCa, "tlsproxy-client");
    Path serverSecret = pki.secretDir("server-secret", proxyCert, serverCa);
    Path clientCaSecret = pki.secretDir("client-ca-secret", null, clientCa);
    // The upstream Secret: the proxy's client certificate, and ca.crt = the CA of the upstream's certificate.
    Path upstreamSecret = pki.secretDir("upstream-secret", proxyClient, serverCa);
    backend = fx.tlsBackend(backendCert, clientCa, TestServer::echo);
    logs = fx.logs();
    proxy = fx.start("""
        listeners:
          - name: k8s
            listen: 127.0.0.1:0
            tls: {certificates: [{secretDir: %s}], clientAuth: required, clientCaSecretDir: %s}
            upstream: {endpoints: [127.0.0.1:%d], tls: {serverName: backend.test, secretDir: %s}}
        """.formatted(serverSecret, clientCaSecret, backend.port(), upstreamSecret));
  }

  @Test
  void secretsServeServerCertificateClientTrustAndUpstreamIdentity() throws Exception {
    try (TlsAttempt a = TlsAttempt.echo(TestPki.clientContext(serverCa, pki.client(clientCa, "alice")),
        proxy.port("k8s"), "proxy.test", HELLO)) {
      assertTrue(a.succeeded(), a::toString);
      assertEquals(proxyCert.cert().getSerialNumber(), a.serverCertificate().getSerialNumber());
    }
    assertEquals(List.of("CN=tlsproxy-client"), List.copyOf(backend.peerSubjects()));
    assertEquals(HELLO.length, backend.bytesReceived());
  }

  @Test
  void clientFromAnotherCaIsRefusedByTheSecretsCa() throws Exception {
    TestPki.Issued rogue = pki.ca("rogue-ca");
    try (TlsAttempt a = TlsAttempt.echo(TestPki.clientContextPresentingAnyway(serverCa, pki.client(rogue, "eve")),
        proxy.port("k8s"), "proxy.test", HELLO)) {
      assertFalse(a.succeeded(), a::toString);
      String line = logs.connectionLineOf("k8s", a.socket());
      assertTrue(line.endsWith(" close=handshake_failed:unknown_ca"), line);
    }
  }
}
