package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.TlsAttempt;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code engine: openssl} (BoringSSL): data flows in every mode, refusals carry the same reasons as with the
 * JDK engine, and named groups apply per listener, which the JDK engine on Java 17 cannot do.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpensslEngineIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki pki;
  private TestPki.Issued ca;
  private SSLContext client;
  private TestServer unknownCa;
  private TestServer expired;
  private TestServer wrongName;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    pki = fx.pki();
    ca = pki.ca("openssl-ca");
    TestPki.Issued stranger = pki.ca("stranger-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    client = TestPki.clientContext(ca, null);
    TestServer echo = fx.echoBackend();
    TestServer tlsEcho = fx.tlsEchoBackend(pki.server(ca, "backend.test", "backend.test"));
    unknownCa = fx.tlsEchoBackend(pki.server(stranger, "backend.test", "backend.test"));
    expired = fx.tlsEchoBackend(pki.expiredServer(ca, "backend.test", "backend.test"));
    wrongName = fx.tlsEchoBackend(pki.server(ca, "other.test", "other.test"));
    logs = fx.logs();
    String certs = ProxyFixture.certificates(proxyCert) + ", engine: openssl";
    String up = "tls: {serverName: backend.test, ca: %s, engine: openssl}".formatted(ca.certFile());
    proxy = fx.start("""
        listeners:
          - {name: tls-to-plain, listen: 127.0.0.1:0, tls: {%1$s}, upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: plain-to-tls, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%3$d], %4$s}}
          - {name: tls-to-tls, listen: 127.0.0.1:0, tls: {%1$s}, upstream: {endpoints: [127.0.0.1:%3$d], %4$s}}
          - {name: modern, listen: 127.0.0.1:0, tls: {%1$s, policy: modern}, upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: mtls, listen: 127.0.0.1:0, tls: {%1$s, clientAuth: required, clientCa: %5$s},
             upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: p384, listen: 127.0.0.1:0, tls: {%1$s, namedGroups: [secp384r1]},
             upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: x25519, listen: 127.0.0.1:0, tls: {%1$s, namedGroups: [X25519]},
             upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: bad-ca, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%6$d], %4$s}}
          - {name: expired, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%7$d], %4$s}}
          - {name: wrong-name, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%8$d], %4$s}}
        """.formatted(certs, echo.port(), tlsEcho.port(), up, ca.certFile(), unknownCa.port(), expired.port(),
        wrongName.port()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"tls-to-plain", "plain-to-tls", "tls-to-tls"})
  void bytesFlowBothWaysOnTheOpensslEngine(String listener) throws Exception {
    int port = proxy.port(listener);
    try (Socket s = listener.startsWith("tls") ? Clients.tls(client, port, "proxy.test") : Clients.plain(port)) {
      byte[] big = new byte[1 << 20];
      new java.util.Random(7).nextBytes(big);
      assertArrayEquals(big, Clients.echo(s, big));
    }
    String line = logs.connectionLine(listener, "bytes_to_upstream=1048576");
    assertTrue(line.contains(listener.startsWith("tls") ? "tls=TLSv1.3/" : "upstream_tls=TLSv1.3/"), line);
  }

  @Test
  void refusalsCarryTheSameReasonsAsWithTheJdkEngine() throws Exception {
    try (Socket s = Clients.plain(proxy.port("tls-to-plain"))) {
      s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      Clients.readAll(s.getInputStream());
    }
    logs.connectionLine("tls-to-plain", "close=handshake_failed:not_tls");
    try (TlsAttempt a = TlsAttempt.handshake(client, proxy.port("modern"), "proxy.test",
        new String[] {"TLSv1.2"}, null)) {
      assertFalse(a.succeeded());
    }
    logs.connectionLine("modern", "close=handshake_failed:protocol_version");
    try (TlsAttempt a = TlsAttempt.handshake(client, proxy.port("tls-to-plain"), "proxy.test",
        new String[] {"TLSv1.2"}, new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"})) {
      assertFalse(a.succeeded());
    }
    logs.connectionLine("tls-to-plain", "close=handshake_failed:no_shared_cipher");
    try (TlsAttempt a = TlsAttempt.echo(client, proxy.port("mtls"), "proxy.test", "x".getBytes())) {
      assertFalse(a.succeeded());
    }
    logs.connectionLine("mtls", "close=handshake_failed:no_client_certificate");
    for (String[] c : new String[][] {{"bad-ca", "unknown_ca"}, {"expired", "certificate_expired"},
        {"wrong-name", "hostname_mismatch"}}) {
      try (Socket s = Clients.plain(proxy.port(c[0]))) {
        s.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
        assertEquals(-1, s.getInputStream().read(), c[0]);
      }
      logs.connectionLine(c[0], "close=upstream_unavailable:tls:" + c[1]);
    }
    assertEquals(0, unknownCa.bytesReceived() + expired.bytesReceived() + wrongName.bytesReceived());
  }

  @Test
  void namedGroupsApplyPerListener() throws Exception {
    assertEquals("secp384r1", serverTempKey("p384"));
    assertEquals("X25519", serverTempKey("x25519"));
  }

  /** The key exchange group openssl s_client reports, e.g. "X25519" or "secp384r1". */
  private String serverTempKey(String listener) throws Exception {
    ExternalProcess p = ExternalProcess.run(fx.dir(), WAIT, "openssl", "s_client", "-connect",
        "127.0.0.1:" + proxy.port(listener), "-servername", "proxy.test", "-CAfile", ca.certFile().toString(),
        "-groups", "X25519:P-256:P-384", "-brief");
    String out = p.output();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:Server Temp Key|Negotiated TLS1.3 group)"
        + ": (?:ECDH, )?([A-Za-z0-9-]+)").matcher(out);
    assertTrue(m.find(), out);
    return m.group(1);
  }
}
