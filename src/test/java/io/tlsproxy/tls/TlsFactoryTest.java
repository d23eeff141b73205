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

  static TlsFixture fixture;
  /** A second certificate, for b.test, that a listener serves first. */
  static TestPki.Issued other;

  @BeforeAll
  static void mint(Vertx vertx, @TempDir Path dir) {
    fixture = new TlsFixture(vertx, dir);
    other = fixture.serverFor("b.test");
  }

  /** A listener serving {@code other}'s certificate first and a.test's second, and a client as {@code upstreamTls}. */
  private static ListenerTls twoCertificates(String engine, String upstreamTls) {
    return TlsFixture.build(fixture.listener("{certificates: [" + TlsFixture.pem(other) + ", "
        + TlsFixture.pem(fixture.server()) + "], engine: " + engine + "}", upstreamTls));
  }

  private static TlsFixture.Session negotiated(String engine, String serverMore, String clientMore) {
    TlsFixture.Outcome o = TlsFixture.handshake(fixture.pair(serving(engine, fixture.server(), serverMore),
        verifying(engine, fixture.ca(), "a.test", clientMore)), "a.test");
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
    TlsFixture.Outcome o = TlsFixture.handshake(fixture.pair(serving(engine, fixture.server(), ", alpn: [h2]"),
        verifying(engine, fixture.ca(), "a.test", ", alpn: [http/1.1]")), "a.test");
    assertEquals(engine.equals("openssl"), o.succeeded(), o.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void theUpstreamsServerNameIsSentAndVerifiedWhateverAddressIsDialled(String engine) {
    ListenerTls tls = twoCertificates(engine, verifying(engine, fixture.ca(), "a.test", ""));
    assertEquals(fixture.server().cert(), TlsFixture.handshake(tls, "10.0.0.1").serverCertificate());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void withoutAServerNameTheDialledHostIsSentAndVerified(String engine) {
    ListenerTls tls = twoCertificates(engine, "{ca: " + fixture.ca().certFile() + ", engine: " + engine + "}");
    assertEquals(fixture.server().cert(), TlsFixture.handshake(tls, "a.test").serverCertificate());
    assertFalse(TlsFixture.handshake(tls, "c.test").succeeded(), "c.test gets b.test's certificate, refused");
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void theUpstreamClientCertificateIsPresentedToAServerThatRequiresOne(String engine) {
    TlsFixture.Outcome o = TlsFixture.handshake(fixture.pair(
        serving(engine, fixture.server(), ", clientAuth: required, clientCa: " + fixture.ca().certFile()),
        verifying(engine, fixture.ca(), "a.test", ", cert: " + fixture.client().certFile() + ", key: "
            + fixture.client().keyFile())), "a.test");
    assertTrue(o.succeeded(), o.toString());
    assertEquals(fixture.client().cert(), o.server().session().peer());
  }
}
