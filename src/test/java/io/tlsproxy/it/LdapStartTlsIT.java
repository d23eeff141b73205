package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.SlapdServer;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * LDAP through tlsproxy with {@code startTls: ldap}, against real slapd servers: a plaintext ldapsearch finds the
 * entry of a server that offers StartTLS (tlsproxy upgrades and verifies it), and {@code ldapsearch -ZZ} upgrades
 * with tlsproxy in front of a server without TLS. A server that refuses StartTLS or answers garbage, and peers that
 * pipeline a request after the upgrade, are refused with their reason, nothing forwarded, and the proxy serves on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LdapStartTlsIT {

  private static final Duration CLIENT = Duration.ofSeconds(30);
  /** What ldapsearch -ZZ sends first: message 1, the StartTLS ExtendedRequest. */
  private static final byte[] START_TLS = HexFormat.of().parseHex(
      "301d02010177188016312e332e362e312e342e312e313436362e3230303337");
  /** An anonymous simple BindRequest, message 2. */
  private static final byte[] BIND = HexFormat.of().parseHex("300c020102600702010304008000");

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private ProxyHarness proxy;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    ca = pki.ca("ca");
    SlapdServer withTls = fx.closing(SlapdServer.start(pki.server(ca, "slapd", "localhost", "127.0.0.1")));
    SlapdServer withoutTls = fx.closing(SlapdServer.start(null));
    TestPki.Issued proxyCert = pki.server(ca, "proxy", "localhost", "127.0.0.1");
    TestServer garbage = fx.backend((socket, server) -> {
      socket.getInputStream().readNBytes(START_TLS.length);
      socket.getOutputStream().write("220 mail.example ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.getInputStream().read();
    });
    // Success, then a forged SearchResultDone ahead of the TLS handshake.
    TestServer pipelining = fx.backend((socket, server) -> {
      socket.getInputStream().readNBytes(START_TLS.length);
      socket.getOutputStream().write(HexFormat.of().parseHex("300c02010178070a010004000400"
          + "300c02010265070a010004000400"));
      socket.getInputStream().read();
    });
    String upstreamTls = "tls: {serverName: localhost, ca: " + ca.certFile() + ", startTls: ldap}";
    proxy = fx.start("""
        listeners:
          - name: ldap-out
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: ldap-in
            listen: 127.0.0.1:0
            tls: {%s, startTls: ldap}
            upstream: {endpoints: [127.0.0.1:%d]}
          - name: ldap-refused
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: ldap-garbage
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: ldap-pipelining
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
        """.formatted(withTls.port(), upstreamTls, ProxyFixture.certificates(proxyCert), withoutTls.port(),
        withoutTls.port(), upstreamTls, garbage.port(), upstreamTls, pipelining.port(), upstreamTls));
  }

  /** ldapsearch for the test entry at listener {@code listener}, with {@code options} (e.g. -ZZ). */
  private ExternalProcess ldapsearch(String listener, String... options) throws Exception {
    List<String> command = new ArrayList<>(List.of("env", "LDAPTLS_CACERT=" + ca.certFile(),
        "LDAPTLS_REQCERT=demand", "ldapsearch", "-x", "-o", "nettimeout=10"));
    command.addAll(List.of(options));
    // 127.0.0.1, not localhost: libldap replaces "localhost" with the machine's name before checking the certificate.
    command.addAll(List.of("-H", "ldap://127.0.0.1:" + proxy.port(listener) + "/", "-b", SlapdServer.SUFFIX,
        "(cn=probe)", "dn"));
    return ExternalProcess.run(null, CLIENT, command.toArray(String[]::new));
  }

  private Scrape scrape() throws Exception {
    return Scrape.of(proxy.adminPort());
  }

  private double failures(String listener, String side, String reason) throws Exception {
    return scrape().sum("tlsproxy_tls_handshake_failures_total", "listener", listener, "side", side,
        "reason", reason);
  }

  /** Failures are counted when the connection is closed, which the client may see first. */
  private void awaitFailures(String listener, String side, String reason, double expected) throws Exception {
    Await.until(reason + " counted on " + listener, Duration.ofSeconds(10), () -> {
      try {
        return failures(listener, side, reason) == expected;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @Test
  void plaintextLdapsearchFindsTheEntryOfAStartTlsServerThroughAnOriginatingListener() throws Exception {
    double before = scrape().sum("tlsproxy_tls_handshakes_total", "listener", "ldap-out", "side", "upstream");
    ExternalProcess search = ldapsearch("ldap-out");
    assertEquals(0, search.process().exitValue(), search.output());
    assertTrue(search.output().contains("dn: " + SlapdServer.ENTRY), search.output());
    assertEquals(before + 1, scrape().sum("tlsproxy_tls_handshakes_total", "listener", "ldap-out", "side",
        "upstream"));
  }

  @Test
  void clientAskingForStartTlsThroughAnOriginatingListenerIsAnsweredNotHung() throws Exception {
    // -Z (not -ZZ) goes on when StartTLS fails: the server, already in TLS with tlsproxy, refuses a second one.
    ExternalProcess search = ldapsearch("ldap-out", "-Z");
    assertEquals(0, search.process().exitValue(), search.output());
    assertTrue(search.output().contains("dn: " + SlapdServer.ENTRY), search.output());
    assertTrue(search.output().contains("ldap_start_tls"), search.output());
  }

  @Test
  void ldapsearchWithStartTlsFindsTheEntryOfAServerWithoutTlsThroughATerminatingListener() throws Exception {
    double before = scrape().sum("tlsproxy_tls_handshakes_total", "listener", "ldap-in", "side", "downstream");
    ExternalProcess search = ldapsearch("ldap-in", "-ZZ");
    assertEquals(0, search.process().exitValue(), search.output());
    assertTrue(search.output().contains("dn: " + SlapdServer.ENTRY), search.output());
    assertEquals(before + 1, scrape().sum("tlsproxy_tls_handshakes_total", "listener", "ldap-in", "side",
        "downstream"));
  }

  @Test
  void plaintextLdapsearchAtATerminatingListenerIsToldConfidentialityRequiredAndCounted() throws Exception {
    double before = failures("ldap-in", "downstream", "starttls_required");
    ExternalProcess search = ldapsearch("ldap-in");
    assertNotEquals(0, search.process().exitValue(), search.output());
    assertTrue(search.output().contains("Confidentiality required (13)"), search.output());
    awaitFailures("ldap-in", "downstream", "starttls_required", before + 1);
  }

  @Test
  void serverWithoutTlsRefusesStartTlsAndIsCounted() throws Exception {
    double before = failures("ldap-refused", "upstream", "starttls_refused");
    ExternalProcess search = ldapsearch("ldap-refused");
    assertNotEquals(0, search.process().exitValue(), search.output());
    awaitFailures("ldap-refused", "upstream", "starttls_refused", before + 1);
    assertTrue(scrape().sum("tlsproxy_upstream_connect_failures_total", "listener", "ldap-refused",
        "reason", "starttls_refused") >= 1, scrape().text());
    assertProxyStillServes();
  }

  @Test
  void serverAnsweringGarbageIsAProtocolError() throws Exception {
    double before = failures("ldap-garbage", "upstream", "starttls_protocol_error");
    ExternalProcess search = ldapsearch("ldap-garbage");
    assertNotEquals(0, search.process().exitValue(), search.output());
    awaitFailures("ldap-garbage", "upstream", "starttls_protocol_error", before + 1);
    assertProxyStillServes();
  }

  @Test
  void serverSendingAResponseAfterItsSuccessIsRefusedBeforeTls() throws Exception {
    double before = failures("ldap-pipelining", "upstream", "starttls_protocol_error");
    ExternalProcess search = ldapsearch("ldap-pipelining");
    assertNotEquals(0, search.process().exitValue(), search.output());
    awaitFailures("ldap-pipelining", "upstream", "starttls_protocol_error", before + 1);
    assertProxyStillServes();
  }

  @Test
  void clientPipeliningABindAfterStartTlsGetsNoAnswerAndIsClosed() throws Exception {
    double before = failures("ldap-in", "downstream", "starttls_protocol_error");
    try (Socket s = Clients.plain(proxy.port("ldap-in"))) {
      OutputStream out = s.getOutputStream();
      byte[] both = new byte[START_TLS.length + BIND.length];
      System.arraycopy(START_TLS, 0, both, 0, START_TLS.length);
      System.arraycopy(BIND, 0, both, START_TLS.length, BIND.length);
      out.write(both);
      out.flush();
      assertEquals(-1, s.getInputStream().read(), "no StartTLS success and no bind answer: just closed");
    }
    awaitFailures("ldap-in", "downstream", "starttls_protocol_error", before + 1);
    assertProxyStillServes();
  }

  private void assertProxyStillServes() throws Exception {
    ExternalProcess search = ldapsearch("ldap-out");
    assertTrue(search.output().contains("dn: " + SlapdServer.ENTRY), search.output());
  }
}
