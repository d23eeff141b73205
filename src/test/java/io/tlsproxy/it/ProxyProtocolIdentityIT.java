package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.proxyproto.DecodeResult;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.proxyproto.Tlv;
import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.ProxyHeaderBackend;
import io.tlsproxy.testkit.TestPki;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Who the client is, told to the backend: with {@code proxyProtocolTlvs} the version 2 header carries the
 * certificate the client presented, byte for byte, and its SPIFFE ID; without the key, or without a client
 * certificate, it carries neither. HAProxy, as an independent reader, accepts such a header.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProxyProtocolIdentityIT {

  private static final byte[] HELLO = "hello, who am I".getBytes(StandardCharsets.UTF_8);
  private static final String SPIFFE_ID = "spiffe://example.org/ns/shop/sa/checkout";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki pki;
  private TestPki.Issued ca;
  private TestPki.Issued clientCa;
  private ProxyHeaderBackend recorder;
  private ProxyHarness proxy;
  private int haproxyPort;

  @BeforeAll
  void start() throws Exception {
    pki = fx.pki();
    ca = pki.ca("ca");
    clientCa = pki.ca("client-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    recorder = fx.closing(ProxyHeaderBackend.plain());
    haproxyPort = Ports.unused();
    String tls = "{" + ProxyFixture.certificates(proxyCert) + ", clientAuth: optional, clientCa: "
        + clientCa.certFile() + "}";
    proxy = fx.start("""
        listeners:
          - name: identity
            listen: 127.0.0.1:0
            tls: %1$s
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v2, proxyProtocolTlvs: [client-cert, client-uris]}
          - name: cn-only
            listen: 127.0.0.1:0
            tls: %1$s
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v2}
          - name: via-haproxy
            listen: 127.0.0.1:0
            tls: %1$s
            upstream:
              endpoints: [127.0.0.1:%3$d]
              proxyProtocol: v2
              proxyProtocolTlvs: [client-cert, client-uris, client-dns]
        """.formatted(tls, recorder.port(), haproxyPort));
  }

  @Test
  void listedTlvsCarryTheClientsOwnCertificateAndSpiffeId() throws Exception {
    TestPki.Issued checkout = pki.client(clientCa, "checkout", SPIFFE_ID, "checkout.shop.internal");
    try (SSLSocket s = Clients.tls(TestPki.clientContext(ca, checkout), proxy.port("identity"), "proxy.test")) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      ProxyHeader h = recorder.await(d -> from(d, s)).header();
      Certificate[] sent = s.getSession().getLocalCertificates();
      assertArrayEquals(sent[0].getEncoded(), h.clientCertificate().orElseThrow(),
          "the DER certificate the client presented");
      assertArrayEquals(checkout.cert().getEncoded(), h.clientCertificate().orElseThrow());
      assertEquals(List.of(SPIFFE_ID), h.clientUris());
      assertEquals(List.of(), h.clientDnsNames(), "client-dns was not listed");
      assertEquals("checkout", h.ssl().orElseThrow().commonName().orElseThrow(), "PP2_SUBTYPE_SSL_CN stays");
    }
  }

  @Test
  void withoutTheKeyOnlyTheCommonNameIsSent() throws Exception {
    TestPki.Issued checkout = pki.client(clientCa, "checkout", SPIFFE_ID);
    try (SSLSocket s = Clients.tls(TestPki.clientContext(ca, checkout), proxy.port("cn-only"), "proxy.test")) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      ProxyHeader h = recorder.await(d -> from(d, s)).header();
      assertEquals("checkout", h.ssl().orElseThrow().commonName().orElseThrow());
      assertTrue(noIdentityTlvs(h), h::toString);
    }
  }

  @Test
  void clientWithoutCertificateGetsNoIdentityTlvs() throws Exception {
    try (SSLSocket s = Clients.tls(TestPki.clientContext(ca, null), proxy.port("identity"), "proxy.test")) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      ProxyHeader h = recorder.await(d -> from(d, s)).header();
      assertTrue(h.ssl().orElseThrow().commonName().isEmpty());
      assertTrue(noIdentityTlvs(h), h::toString);
    }
  }

  /**
   * HAProxy reads our header, certificate TLV and all, and passes on the client address and the SNI name it
   * found there: it would refuse the connection if a length in the header were wrong.
   */
  @Test
  void haproxyAcceptsTheHeaderWithTheCertificateInIt() throws Exception {
    Assumptions.assumeTrue(ExternalProcess.onPath("haproxy"), "haproxy is not installed");
    Path cfg = Files.writeString(fx.dir().resolve("haproxy-identity.cfg"), """
        global
          maxconn 100
        defaults
          mode tcp
          timeout connect 5s
          timeout client 20s
          timeout server 20s
        frontend behind
          bind 127.0.0.1:%1$d accept-proxy
          default_backend recorder
        backend recorder
          server r 127.0.0.1:%2$d send-proxy-v2 proxy-v2-options authority
        """.formatted(haproxyPort, recorder.port()));
    fx.closing(ExternalProcess.start(fx.dir(), List.of("haproxy", "-db", "-f", cfg.toString())));
    Await.until("haproxy listening on " + haproxyPort, Duration.ofSeconds(20), () -> accepts(haproxyPort));
    TestPki.Issued checkout = pki.client(clientCa, "checkout", SPIFFE_ID, "checkout.shop.internal");
    SSLContext ctx = TestPki.clientContext(ca, checkout);
    try (SSLSocket s = Clients.tls(ctx, proxy.port("via-haproxy"), "proxy.test")) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      DecodeResult.Decoded d = recorder.await(h -> from(h, s));
      assertEquals("proxy.test", d.header().authority().orElse(null), d::toString);
      assertTrue(noIdentityTlvs(d.header()), "HAProxy sends only its own TLVs: " + d);
    }
  }

  private static boolean noIdentityTlvs(ProxyHeader h) {
    return h.tlvs().stream().noneMatch(t -> t.type() >= Tlv.CLIENT_CERT && t.type() <= 0xEF);
  }

  private static boolean from(DecodeResult.Decoded d, Socket client) {
    return d.header().hasAddresses() && d.header().source().getPort() == client.getLocalPort();
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
