package io.tlsproxy.tls;

import static io.tlsproxy.tls.TlsFixture.serving;
import static io.tlsproxy.tls.TlsFixture.verifying;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.TestPki;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the contexts {@link TlsFactory} builds negotiate, through real handshakes on both engines: the configured
 * suite order, key exchange groups, ALPN, the upstream's server name, and client certificates.
 */
@ExtendWith(VertxExtension.class)
class TlsFactoryTest {

  @TempDir
  static Path dir;
  static Vertx vertx;
  static TestPki.Issued ca;
  static TestPki.Issued server;
  static TestPki.Issued other;
  static TestPki.Issued client;

  @BeforeAll
  static void mint(Vertx v) {
    vertx = v;
    TestPki pki = new TestPki(dir);
    ca = pki.ca("tf-ca");
    server = pki.server(ca, "a.test", "a.test");
    other = pki.server(ca, "b.test", "b.test");
    client = pki.client(ca, "proxy");
  }

  private static TlsFixture.Session negotiated(String engine, String serverMore, String clientMore) {
    TlsFixture.Outcome o = TlsFixture.handshake(TlsFixture.pair(vertx, dir, serving(engine, server, serverMore),
        verifying(engine, ca, "a.test", clientMore)), "a.test");
    assertTrue(o.succeeded(), o.toString());
    return o.server().session();
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void theServersSuiteOrderWinsOverTheClients(String engine) {
    String a256 = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
    String a128 = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    TlsFixture.Session s = negotiated(engine, ", protocols: [TLSv1.2], cipherSuites: [" + a256 + ", " + a128 + "]",
        ", protocols: [TLSv1.2], cipherSuites: [" + a128 + ", " + a256 + "]");
    assertEquals("TLSv1.2", s.protocol());
    assertEquals(a256, s.cipherSuite());
  }

  @Test
  void opensslNegotiatesThePostQuantumHybridByDefaultAndTheConfiguredGroupOtherwise() {
    assertEquals("X25519MLKEM768", negotiated("openssl", "", "").group());
    assertEquals("P-384", negotiated("openssl", ", namedGroups: [secp384r1]", "").group());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void alpnSettlesOnTheServersChoiceAmongTheClientsOffer(String engine) {
    assertEquals("http/1.1", negotiated(engine, ", alpn: [h2, http/1.1]", ", alpn: [http/1.1]").alpn());
    assertNull(negotiated(engine, "", ", alpn: [h2]").alpn(), "a server without ALPN picks none");
  }

  /** The JDK engine refuses as RFC 7301 section 3.2 asks; BoringSSL cannot, which --check notes. */
  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void noCommonAlpnProtocolIsRefusedByTheJdkEngineOnly(String engine) {
    TlsFixture.Outcome o = TlsFixture.handshake(TlsFixture.pair(vertx, dir, serving(engine, server, ", alpn: [h2]"),
        verifying(engine, ca, "a.test", ", alpn: [http/1.1]")), "a.test");
    assertEquals(engine.equals("openssl"), o.succeeded(), o.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void theUpstreamsServerNameIsSentAndVerifiedWhateverAddressIsDialled(String engine) {
    ListenerTls tls = TlsFixture.build(TlsFixture.listener(vertx, dir, "{certificates: [" + TlsFixture.pem(other)
        + ", " + TlsFixture.pem(server) + "], engine: " + engine + "}", verifying(engine, ca, "a.test", "")));
    assertEquals(server.cert(), TlsFixture.handshake(tls, "10.0.0.1").serverCertificate());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void withoutAServerNameTheDialledHostIsSentAndVerified(String engine) {
    ListenerTls tls = TlsFixture.build(TlsFixture.listener(vertx, dir, "{certificates: [" + TlsFixture.pem(other)
        + ", " + TlsFixture.pem(server) + "], engine: " + engine + "}",
        "{ca: " + ca.certFile() + ", engine: " + engine + "}"));
    assertEquals(server.cert(), TlsFixture.handshake(tls, "a.test").serverCertificate());
    assertFalse(TlsFixture.handshake(tls, "c.test").succeeded(), "c.test gets b.test's certificate, refused");
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void theUpstreamClientCertificateIsPresentedToAServerThatRequiresOne(String engine) {
    TlsFixture.Outcome o = TlsFixture.handshake(TlsFixture.pair(vertx, dir,
        serving(engine, server, ", clientAuth: required, clientCa: " + ca.certFile()),
        verifying(engine, ca, "a.test", ", cert: " + client.certFile() + ", key: " + client.keyFile())), "a.test");
    assertTrue(o.succeeded(), o.toString());
    assertEquals(client.cert(), o.server().session().peer());
  }
}
