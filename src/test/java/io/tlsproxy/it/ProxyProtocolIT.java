package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.proxyproto.DecodeResult;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.proxyproto.ProxyHeaderEncoder;
import io.tlsproxy.proxyproto.SslTlv;
import io.tlsproxy.proxyproto.Tlv;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.ProxyHeaderBackend;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The PROXY protocol both ways: headers sent to upstreams (v1, v2, with the client's TLS facts, ahead of the
 * upstream's TLS handshake), and headers accepted from a load balancer in front (v1, v2, then TLS on the same
 * socket), refused when missing, malformed or late, and optional where configured.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProxyProtocolIT {

  private static final byte[] HELLO = "hello through the proxy".getBytes(StandardCharsets.UTF_8);
  private static final String ERRORS = "tlsproxy_proxy_protocol_errors_total";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private TestPki.Issued clientCa;
  private TestPki pki;
  private ProxyHeaderBackend plainBackend;
  private ProxyHeaderBackend tlsBackend;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    pki = fx.pki();
    ca = pki.ca("ca");
    clientCa = pki.ca("client-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    TestPki.Issued backendCert = pki.server(ca, "backend.test", "backend.test");
    plainBackend = fx.closing(ProxyHeaderBackend.plain());
    tlsBackend = fx.closing(ProxyHeaderBackend.tls(TestPki.serverContext(backendCert, null)));
    logs = fx.logs();
    String tls = "{" + ProxyFixture.certificates(proxyCert) + ", clientAuth: optional, clientCa: "
        + clientCa.certFile() + ", alpn: [h2, http/1.1]";
    proxy = fx.start("""
        listeners:
          - name: plain-v1
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v1}
          - name: plain-v2
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v2}
          - name: tls-v1
            listen: 127.0.0.1:0
            tls: %1$s}
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v1}
          - name: tls-v2
            listen: 127.0.0.1:0
            tls: %1$s}
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v2}
          - name: to-tls
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%3$d], proxyProtocol: v2, tls: {serverName: backend.test, ca: %4$s}}
          - name: accept-plain
            listen: 127.0.0.1:0
            proxyProtocol: accept
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v2}
          - name: accept-tls
            listen: 127.0.0.1:0
            proxyProtocol: accept
            tls: %1$s, handshakeTimeout: 1s}
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v1}
          - name: optional-plain
            listen: 127.0.0.1:0
            proxyProtocol: optional
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v1}
          - name: optional-tls
            listen: 127.0.0.1:0
            proxyProtocol: optional
            tls: %1$s}
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v2}
          - name: no-header
            listen: 127.0.0.1:0
            proxyProtocol: off
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: off}
        """.formatted(tls, plainBackend.port(), tlsBackend.port(), ca.certFile()));
  }

  // ---- sending ----------------------------------------------------------------------------------------------

  @Test
  void version1ToPlainUpstreamCarriesTheClientsAddressAndPort() throws Exception {
    try (Socket s = Clients.plain(proxy.port("plain-v1"))) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      DecodeResult.Decoded d = plainBackend.await(h -> from(h, s));
      assertEquals(1, d.version());
      assertEquals(ProxyHeader.Family.TCP4, d.header().family());
      assertEquals(new InetSocketAddress("127.0.0.1", proxy.port("plain-v1")), d.header().destination());
    }
  }

  @Test
  void version2FromPlaintextClientCarriesAddressesAndNoTlsFacts() throws Exception {
    try (Socket s = Clients.plain(proxy.port("plain-v2"))) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      DecodeResult.Decoded d = plainBackend.await(h -> from(h, s));
      assertEquals(2, d.version());
      assertEquals(new InetSocketAddress("127.0.0.1", proxy.port("plain-v2")), d.header().destination());
      assertEquals(List.of(), d.header().tlvs());
    }
  }

  @Test
  void version2FromTlsClientCarriesVersionCipherSniAlpnAndCertificateCn() throws Exception {
    SSLContext alice = TestPki.clientContext(ca, pki.client(clientCa, "alice"));
    try (SSLSocket s = tlsClient(alice, proxy.port("tls-v2"))) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      ProxyHeader h = plainBackend.await(d -> from(d, s)).header();
      assertEquals("proxy.test", h.authority().orElseThrow());
      assertEquals("h2", h.alpn().orElseThrow());
      SslTlv ssl = h.ssl().orElseThrow();
      assertEquals(s.getSession().getProtocol(), ssl.version().orElseThrow());
      assertEquals(s.getSession().getCipherSuite(), ssl.cipher().orElseThrow());
      assertEquals("alice", ssl.commonName().orElseThrow());
      assertEquals(SslTlv.CLIENT_SSL | SslTlv.CLIENT_CERT_CONN | SslTlv.CLIENT_CERT_SESS, ssl.client());
      assertEquals(0, ssl.verify(), "a verified client certificate");
    }
  }

  @Test
  void version2FromTlsClientWithoutCertificateHasNoCnAndSaysUnverified() throws Exception {
    try (SSLSocket s = tlsClient(TestPki.clientContext(ca, null), proxy.port("tls-v2"))) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      SslTlv ssl = plainBackend.await(d -> from(d, s)).header().ssl().orElseThrow();
      assertEquals(SslTlv.CLIENT_SSL, ssl.client());
      assertTrue(ssl.verify() != 0);
      assertTrue(ssl.commonName().isEmpty());
      assertEquals(s.getSession().getProtocol(), ssl.version().orElseThrow());
    }
  }

  @Test
  void version1FromTlsClientCarriesTheAddressesOnly() throws Exception {
    try (SSLSocket s = tlsClient(TestPki.clientContext(ca, null), proxy.port("tls-v1"))) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      DecodeResult.Decoded d = plainBackend.await(h -> from(h, s));
      assertEquals(1, d.version());
      assertEquals(List.of(), d.header().tlvs());
    }
  }

  @Test
  void headerToTlsUpstreamComesBeforeItsClientHello() throws Exception {
    Socket s = Clients.plain(proxy.port("to-tls"));
    try (s) {
      // The backend reads the header in plaintext, then handshakes on the same socket: an echo proves both.
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      DecodeResult.Decoded d = tlsBackend.await(h -> from(h, s));
      assertEquals(2, d.version());
      assertTrue(d.header().ssl().isEmpty(), "the client spoke plaintext");
    }
    String line = logs.connectionLineOf("to-tls", s);
    assertTrue(line.contains(" upstream_tls=TLSv1."), line);
  }

  @Test
  void offSendsNoHeaderAndExpectsNone() throws Exception {
    int before = plainBackend.results().size();
    try (Socket s = Clients.plain(proxy.port("no-header"))) {
      s.getOutputStream().write(HELLO);
      s.getOutputStream().flush();
      // The backend expects a header: HELLO is not one, so it records that and hangs up.
      Clients.discardUntilEnd(s);
    }
    assertTrue(plainBackend.results().size() > before);
    assertTrue(plainBackend.results().get(plainBackend.results().size() - 1) instanceof DecodeResult.NotProxy);
  }

  // ---- accepting --------------------------------------------------------------------------------------------

  @Test
  void acceptedVersion1HeaderNamesTheClientInTheLogAndInTheOnwardHeader() throws Exception {
    try (Socket s = Clients.plain(proxy.port("accept-plain"))) {
      write(s, "PROXY TCP4 203.0.113.7 192.0.2.10 40001 443\r\n".getBytes(StandardCharsets.US_ASCII));
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      ProxyHeader h = plainBackend.await(d -> d.header().hasAddresses()
          && d.header().source().getPort() == 40001).header();
      assertEquals(new InetSocketAddress(InetAddress.getByName("203.0.113.7"), 40001), h.source());
      assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.10"), 443), h.destination());
    }
    String line = logs.connectionLine("accept-plain", "client=/203.0.113.7:40001 ");
    assertTrue(line.contains(" via=/127.0.0.1:"), line);
  }

  @Test
  void acceptedVersion2HeaderThenTlsOnTheSameSocket() throws Exception {
    InetSocketAddress client = new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 40002);
    InetSocketAddress target = new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 8443);
    byte[] header = ProxyHeaderEncoder.v2(ProxyHeader.tcp(client, target, List.of(Tlv.text(Tlv.UNIQUE_ID, "x"))));
    try (Socket raw = Clients.plain(proxy.port("accept-tls"))) {
      write(raw, header);
      try (SSLSocket s = overSocket(TestPki.clientContext(ca, null), raw)) {
        assertArrayEquals(HELLO, Clients.echo(s, HELLO));
        DecodeResult.Decoded d = plainBackend.await(r -> r.header().hasAddresses()
            && r.header().source().getPort() == 40002);
        assertEquals(1, d.version());
        assertEquals(ProxyHeader.Family.TCP6, d.header().family());
        assertEquals(client, d.header().source());
        assertEquals(target, d.header().destination());
      }
    }
    String line = logs.connectionLine("accept-tls", "client=/[2001:db8:0:0:0:0:0:7]:40002 ");
    assertTrue(line.contains(" tls=TLSv1."), line);
  }

  /** A load balancer that holds a connection open before it sends the header: that wait is not handshake time. */
  @Test
  void handshakeTimeCountsFromTheEndOfTheHeader() throws Exception {
    InetSocketAddress client = new InetSocketAddress(InetAddress.getByName("198.51.100.9"), 40003);
    InetSocketAddress target = new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 8443);
    long pauseMillis = 2000; // the scenario itself; the listener's handshake timeout is the default 10 s
    try (Socket raw = Clients.plain(proxy.port("optional-tls"))) {
      Thread.sleep(pauseMillis);
      write(raw, ProxyHeaderEncoder.v1(ProxyHeader.tcp(client, target, List.of())));
      try (SSLSocket s = overSocket(TestPki.clientContext(ca, null), raw)) {
        assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      }
    }
    String line = logs.connectionLine("optional-tls", "client=/198.51.100.9:40003 ");
    long handshakeMillis = Long.parseLong(line.replaceAll(".* handshake_ms=(\\d+).*", "$1"));
    long durationMillis = Long.parseLong(line.replaceAll(".* duration_ms=(\\d+).*", "$1"));
    assertTrue(durationMillis >= pauseMillis && handshakeMillis < pauseMillis, line);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "PROXY TCP4 203.0.113.300 192.0.2.10 1 2\\r\\n|bad_address",
      "PROXY TCP4 203.0.113.3 192.0.2.10 1 99999\\r\\n|bad_port",
      "PROXY TCP4 203.0.113.3 192.0.2.10 1 2\\n|malformed",
      "PROXY TCP9 203.0.113.3 192.0.2.10 1 2\\r\\n|bad_family",
      "GET / HTTP/1.1\\r\\n\\r\\n|missing"})
  void malformedOrMissingHeaderIsRefusedCountedAndLogged(String header, String reason) throws Exception {
    double before = errors("accept-plain", reason);
    try (Socket s = Clients.plain(proxy.port("accept-plain"))) {
      write(s, header.replace("\\r", "\r").replace("\\n", "\n").getBytes(StandardCharsets.US_ASCII));
      Clients.assertClosedWithoutReply(s);
      String line = logs.connectionLineOf("accept-plain", s);
      assertTrue(line.endsWith(" close=proxy_protocol:" + reason), line);
      assertFalse(line.contains(" upstream="), line);
    }
    assertEquals(before + 1, errors("accept-plain", reason));
  }

  @Test
  void version2HeaderWithBadVersionIsRefused() throws Exception {
    byte[] header = ProxyHeaderEncoder.v2(ProxyHeader.local());
    header[12] = 0x31;
    double before = errors("accept-plain", "bad_version");
    try (Socket s = Clients.plain(proxy.port("accept-plain"))) {
      write(s, header);
      Clients.assertClosedWithoutReply(s);
      assertTrue(logs.connectionLineOf("accept-plain", s).endsWith(" close=proxy_protocol:bad_version"));
    }
    assertEquals(before + 1, errors("accept-plain", "bad_version"));
  }

  @Test
  void tlsClientWithoutHeaderIsRefusedAsMissingNotAsHandshakeFailure() throws Exception {
    double handshakeFailures = scrape().sum("tlsproxy_tls_handshake_failures_total", "listener", "accept-tls");
    double before = errors("accept-tls", "missing");
    SSLSocket s = Clients.tlsBeforeHandshake(TestPki.clientContext(ca, null), proxy.port("accept-tls"),
        "proxy.test", null, null);
    try (s) {
      s.startHandshake();
      throw new AssertionError("the handshake should have failed");
    } catch (IOException expected) {
      // closed before any TLS reply
    }
    assertTrue(logs.connectionLineOf("accept-tls", s).endsWith(" close=proxy_protocol:missing"));
    assertEquals(before + 1, errors("accept-tls", "missing"));
    assertEquals(handshakeFailures, scrape().sum("tlsproxy_tls_handshake_failures_total", "listener",
        "accept-tls"), "no handshake was attempted");
  }

  @Test
  void headerThatNeverCompletesIsCutAtTheHandshakeTimeout() throws Exception {
    double before = errors("accept-tls", "timeout");
    try (Socket s = Clients.plain(proxy.port("accept-tls"))) {
      write(s, "PROXY TCP4 203.0.113.9".getBytes(StandardCharsets.US_ASCII));
      long start = System.nanoTime();
      Clients.assertClosedWithoutReply(s);
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertTrue(tookMs >= 500 && tookMs < 10_000, "cut after " + tookMs + " ms; handshakeTimeout is 1s");
      assertTrue(logs.connectionLineOf("accept-tls", s).endsWith(" close=proxy_protocol:timeout"));
    }
    assertEquals(before + 1, errors("accept-tls", "timeout"));
  }

  @Test
  void clientClosingMidHeaderIsCountedAsTruncated() throws Exception {
    double before = errors("accept-plain", "truncated");
    try (Socket s = Clients.plain(proxy.port("accept-plain"))) {
      write(s, ProxyHeaderEncoder.v2(ProxyHeader.local()), 10);
      s.shutdownOutput();
      Clients.assertClosedWithoutReply(s);
      assertTrue(logs.connectionLineOf("accept-plain", s).endsWith(" close=proxy_protocol:truncated"));
    }
    assertEquals(before + 1, errors("accept-plain", "truncated"));
  }

  @Test
  void optionalListenerUsesAHeaderWhenOneComes() throws Exception {
    try (Socket s = Clients.plain(proxy.port("optional-plain"))) {
      write(s, "PROXY TCP4 198.51.100.20 192.0.2.10 40003 443\r\n".getBytes(StandardCharsets.US_ASCII));
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      plainBackend.await(d -> d.header().hasAddresses() && d.header().source().getPort() == 40003);
    }
    logs.connectionLine("optional-plain", "client=/198.51.100.20:40003 ");
  }

  @Test
  void optionalListenerPassesBytesThatOnlyStartLikeAHeaderUntouched() throws Exception {
    // "PROX" and CR LF CR LF match the start of the two signatures before they diverge: they are data.
    for (String data : List.of("PROXIMITY ALERT", "\r\n\r\nafter blank lines")) {
      byte[] bytes = data.getBytes(StandardCharsets.US_ASCII);
      Socket s = Clients.plain(proxy.port("optional-plain"));
      try (s) {
        assertArrayEquals(bytes, Clients.echo(s, bytes));
        DecodeResult.Decoded d = plainBackend.await(h -> from(h, s));
        assertEquals(1, d.version());
      }
      String line = logs.connectionLineOf("optional-plain", s);
      assertFalse(line.contains(" via="), line);
    }
  }

  @Test
  void optionalTlsListenerHandshakesWithoutAHeader() throws Exception {
    try (SSLSocket s = tlsClient(TestPki.clientContext(ca, null), proxy.port("optional-tls"))) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      assertEquals("proxy.test", plainBackend.await(d -> from(d, s)).header().authority().orElseThrow());
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  /** The onward header names {@code client}'s own socket as the source. */
  private static boolean from(DecodeResult.Decoded d, Socket client) {
    return d.header().hasAddresses() && d.header().source().getPort() == client.getLocalPort()
        && d.header().source().getAddress().isLoopbackAddress();
  }

  private SSLSocket tlsClient(SSLContext ctx, int port) throws IOException {
    SSLSocket s = Clients.tlsBeforeHandshake(ctx, port, "proxy.test", null, null);
    SSLParameters p = s.getSSLParameters();
    p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  /** A TLS client on a socket that has already carried a PROXY header. */
  private static SSLSocket overSocket(SSLContext ctx, Socket raw) throws IOException {
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, "proxy.test", raw.getPort(), false);
    SSLParameters p = s.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName("proxy.test")));
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  private static void write(Socket s, byte[] bytes) throws IOException {
    write(s, bytes, bytes.length);
  }

  private static void write(Socket s, byte[] bytes, int n) throws IOException {
    s.getOutputStream().write(bytes, 0, n);
    s.getOutputStream().flush();
  }

  private double errors(String listener, String reason) throws Exception {
    return scrape().sum(ERRORS, "listener", listener, "reason", reason);
  }

  private Scrape scrape() {
    return new Scrape(proxy.metrics().scrape(null));
  }
}
