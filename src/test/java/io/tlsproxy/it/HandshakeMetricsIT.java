package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.TlsAttempt;
import io.tlsproxy.tls.policy.PolicyResolver;
import io.tlsproxy.tls.policy.TlsPolicy;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every handshake outcome, provoked for real, moves exactly the counter it should: successes by side, protocol
 * and cipher, failures by reason, and one duration sample per handshake and side.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HandshakeMetricsIT {

  private static final String HANDSHAKES = "tlsproxy_tls_handshakes_total";
  private static final String FAILURES = "tlsproxy_tls_handshake_failures_total";
  private static final String DURATIONS = "tlsproxy_tls_handshake_duration_seconds_count";
  private static final String CONNECT_FAILURES = "tlsproxy_upstream_connect_failures_total";
  private static final Duration WAIT = Duration.ofSeconds(15);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private SSLContext client;
  private ProxyHarness proxy;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    ca = pki.ca("metrics-ca");
    TestPki.Issued otherCa = pki.ca("stranger-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    client = TestPki.clientContext(ca, null);
    TestServer echo = fx.echoBackend();
    TestServer goodTls = fx.tlsEchoBackend(pki.server(ca, "backend.test", "backend.test"));
    TestServer unknownCaTls = fx.tlsEchoBackend(pki.server(otherCa, "backend.test", "backend.test"));
    TestServer expiredTls = fx.tlsEchoBackend(pki.expiredServer(ca, "backend.test", "backend.test"));
    TestServer wrongNameTls = fx.tlsEchoBackend(pki.server(ca, "elsewhere.test", "elsewhere.test"));
    String certs = ProxyFixture.certificates(proxyCert);
    String upstreamTls = "tls: {serverName: backend.test, ca: %s}".formatted(ca.certFile());
    proxy = fx.start("""
        listeners:
          - {name: edge, listen: 127.0.0.1:0, tls: {%1$s, handshakeTimeout: 500ms},
             upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: strict, listen: 127.0.0.1:0, tls: {%1$s, policy: modern}, upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: mtls, listen: 127.0.0.1:0, tls: {%1$s, clientAuth: required, clientCa: %3$s},
             upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: origin, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%4$d], %5$s}}
          - {name: bad-ca, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%6$d], %5$s}}
          - {name: expired, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%7$d], %5$s}}
          - {name: wrong-name, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%8$d], %5$s}}
        """.formatted(certs, echo.port(), ca.certFile(), goodTls.port(), upstreamTls, unknownCaTls.port(),
        expiredTls.port(), wrongNameTls.port()));
  }

  private Scrape scrape() throws Exception {
    return Scrape.of(proxy.adminPort());
  }

  /** Runs {@code action} and checks that the sample moved by exactly one, and no "other" failure appeared. */
  private void expectOne(String metric, Runnable0 action, String... labels) throws Exception {
    Scrape before = scrape();
    action.run();
    Await.until(metric + " " + String.join(",", labels) + " to grow", WAIT, () -> {
      try {
        return scrape().sum(metric, labels) > before.sum(metric, labels);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Scrape after = scrape();
    assertEquals(1.0, after.sum(metric, labels) - before.sum(metric, labels), metric + " " + String.join(",",
        labels));
    assertEquals(before.sum(FAILURES, "reason", "other"), after.sum(FAILURES, "reason", "other"),
        "a failure was counted as other");
  }

  interface Runnable0 {
    void run() throws Exception;
  }

  private void downstreamFailure(String listener, String reason, Runnable0 action) throws Exception {
    expectOne(FAILURES, action, "listener", listener, "side", "downstream", "reason", reason);
  }

  private void upstreamFailure(String listener, String reason) throws Exception {
    Scrape before = scrape();
    expectOne(FAILURES, () -> {
      try (Socket s = Clients.plain(proxy.port(listener))) {
        s.getOutputStream().write("never forwarded".getBytes(StandardCharsets.US_ASCII));
        assertEquals(-1, s.getInputStream().read(), "the client is closed without a reply");
      }
    }, "listener", listener, "side", "upstream", "reason", reason);
    assertEquals(1.0, scrape().sum(CONNECT_FAILURES, "listener", listener, "reason", "tls")
        - before.sum(CONNECT_FAILURES, "listener", listener, "reason", "tls"));
  }

  @Test
  void tls13SuccessIsCountedWithProtocolAndServerPreferredCipher() throws Exception {
    SSLContext fresh = TestPki.clientContext(ca, null); // no session to resume from an earlier test
    expectOne(HANDSHAKES, () -> {
      try (Socket s = Clients.tls(fresh, proxy.port("edge"), "proxy.test")) {
        assertEquals(4, Clients.echo(s, "ping".getBytes(StandardCharsets.US_ASCII)).length);
      }
    }, "listener", "edge", "side", "downstream", "protocol", "TLSv1.3", "cipher",
        // BoringSSL follows the client's order among TLS 1.3 suites (the JDK client puts AES-256 first).
        TlsPolicy.OPENSSL.equals(PolicyResolver.defaultEngine()) ? "TLS_AES_256_GCM_SHA384" : "TLS_AES_128_GCM_SHA256",
        "resumed", "false");
  }

  @Test
  void resumedSessionIsCountedAsResumed() throws Exception {
    SSLContext resuming = TestPki.clientContext(ca, null);
    try (Socket s = Clients.tls(resuming, proxy.port("edge"), "proxy.test")) {
      assertEquals(1, Clients.echo(s, "a".getBytes(StandardCharsets.US_ASCII)).length);
    }
    expectOne(HANDSHAKES, () -> {
      try (Socket s = Clients.tls(resuming, proxy.port("edge"), "proxy.test")) {
        assertEquals(1, Clients.echo(s, "b".getBytes(StandardCharsets.US_ASCII)).length);
      }
    }, "listener", "edge", "side", "downstream", "resumed", "true");
  }

  @Test
  void upstreamSessionIsReusedByTheNextConnection() throws Exception {
    try (Socket s = Clients.plain(proxy.port("origin"))) {
      assertEquals(1, Clients.echo(s, "a".getBytes(StandardCharsets.US_ASCII)).length);
    }
    expectOne(HANDSHAKES, () -> {
      try (Socket s = Clients.plain(proxy.port("origin"))) {
        assertEquals(1, Clients.echo(s, "b".getBytes(StandardCharsets.US_ASCII)).length);
      }
    }, "listener", "origin", "side", "upstream", "resumed", "true");
  }

  @Test
  void tls12SuccessIsCountedWithItsSuite() throws Exception {
    expectOne(HANDSHAKES, () -> {
      try (Socket s = Clients.tls(client, proxy.port("edge"), "proxy.test", new String[] {"TLSv1.2"}, null)) {
        assertEquals(4, Clients.echo(s, "ping".getBytes(StandardCharsets.US_ASCII)).length);
      }
    }, "listener", "edge", "side", "downstream", "protocol", "TLSv1.2",
        "cipher", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  }

  @Test
  void upstreamSuccessIsCountedOnTheUpstreamSide() throws Exception {
    expectOne(HANDSHAKES, () -> {
      try (Socket s = Clients.plain(proxy.port("origin"))) {
        assertEquals(4, Clients.echo(s, "ping".getBytes(StandardCharsets.US_ASCII)).length);
      }
    }, "listener", "origin", "side", "upstream", "protocol", "TLSv1.3");
  }

  @Test
  void plaintextOnTheTlsPortIsNotTls() throws Exception {
    downstreamFailure("edge", "not_tls", () -> {
      try (Socket s = Clients.plain(proxy.port("edge"))) {
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        drain(s.getInputStream());
      }
    });
  }

  @Test
  void tls11ClientFromOpensslIsProtocolVersion() throws Exception {
    downstreamFailure("edge", "protocol_version", () -> {
      ExternalProcess p = ExternalProcess.run(fx.dir(), WAIT, "openssl", "s_client", "-connect",
          "127.0.0.1:" + proxy.port("edge"), "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-brief");
      assertFalse(p.process().exitValue() == 0, p.output());
    });
  }

  @Test
  void tls12ClientOnModernListenerIsProtocolVersion() throws Exception {
    downstreamFailure("strict", "protocol_version", () -> {
      try (TlsAttempt a = TlsAttempt.handshake(client, proxy.port("strict"), "proxy.test",
          new String[] {"TLSv1.2"}, null)) {
        assertFalse(a.succeeded());
      }
    });
  }

  @Test
  void clientWithOnlyCbcSuitesIsNoSharedCipher() throws Exception {
    downstreamFailure("edge", "no_shared_cipher", () -> {
      try (TlsAttempt a = TlsAttempt.handshake(client, proxy.port("edge"), "proxy.test",
          new String[] {"TLSv1.2"}, new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"})) {
        assertFalse(a.succeeded());
      }
    });
  }

  @Test
  void missingClientCertificateIsNoClientCertificate() throws Exception {
    downstreamFailure("mtls", "no_client_certificate", () -> {
      try (TlsAttempt a = TlsAttempt.echo(client, proxy.port("mtls"), "proxy.test",
          "ping".getBytes(StandardCharsets.US_ASCII))) {
        assertFalse(a.succeeded());
      }
    });
  }

  @Test
  void silentClientIsTimeout() throws Exception {
    downstreamFailure("edge", "timeout", () -> {
      try (Socket s = Clients.plain(proxy.port("edge"))) {
        assertEquals(-1, s.getInputStream().read(), "the proxy closes a client that sends nothing");
      }
    });
  }

  @Test
  void resetMidHandshakeIsPeerClosed() throws Exception {
    downstreamFailure("edge", "peer_closed", () -> {
      Socket s = Clients.plain(proxy.port("edge"));
      // A TLS record header announcing a ClientHello that never comes, then a reset.
      s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03});
      s.getOutputStream().flush();
      s.setSoLinger(true, 0);
      s.close();
    });
  }

  @Test
  void upstreamWithUnknownCaIsUnknownCa() throws Exception {
    upstreamFailure("bad-ca", "unknown_ca");
  }

  @Test
  void expiredUpstreamIsCertificateExpired() throws Exception {
    upstreamFailure("expired", "certificate_expired");
  }

  @Test
  void upstreamWithAnotherNameIsHostnameMismatch() throws Exception {
    upstreamFailure("wrong-name", "hostname_mismatch");
  }

  @Test
  void everyHandshakeIsTimedOncePerSide() throws Exception {
    Scrape before = scrape();
    try (Socket s = Clients.tls(client, proxy.port("edge"), "proxy.test")) {
      Clients.echo(s, "a".getBytes(StandardCharsets.US_ASCII));
    }
    try (Socket s = Clients.plain(proxy.port("edge"))) {
      s.getOutputStream().write("not tls at all".getBytes(StandardCharsets.US_ASCII));
      drain(s.getInputStream());
    }
    try (Socket s = Clients.plain(proxy.port("origin"))) {
      Clients.echo(s, "b".getBytes(StandardCharsets.US_ASCII));
    }
    Await.until("three handshakes timed", WAIT, () -> {
      try {
        return scrape().sum(DURATIONS) - before.sum(DURATIONS) >= 3;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Scrape after = scrape();
    for (String side : new String[] {"downstream", "upstream"}) {
      double outcomes = after.sum(HANDSHAKES, "side", side) + after.sum(FAILURES, "side", side)
          - before.sum(HANDSHAKES, "side", side) - before.sum(FAILURES, "side", side);
      double timed = after.sum(DURATIONS, "side", side) - before.sum(DURATIONS, "side", side);
      assertEquals(outcomes, timed, side + ": one duration sample per handshake");
    }
    assertEquals(2.0, after.sum(DURATIONS, "listener", "edge") - before.sum(DURATIONS, "listener", "edge"));
    assertEquals(1.0, after.sum(DURATIONS, "listener", "origin") - before.sum(DURATIONS, "listener", "origin"));
    assertTrue(after.text().contains("tlsproxy_tls_certificate_expiry_timestamp_seconds{listener=\"edge\","
        + "role=\"server\""), "expiry gauge for the served certificate");
  }

  private static void drain(InputStream in) throws Exception {
    byte[] buf = new byte[1024];
    while (in.read(buf) >= 0) {
      // until the proxy closes
    }
  }
}
