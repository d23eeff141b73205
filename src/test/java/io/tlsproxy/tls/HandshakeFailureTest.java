package io.tlsproxy.tls;

import static io.tlsproxy.tls.TlsFixture.serving;
import static io.tlsproxy.tls.TlsFixture.verifying;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.tlsproxy.testkit.TestPki;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reason each engine's real failure maps to: every scenario is a failing handshake between contexts built as
 * the proxy builds them, on the OpenSSL and the JDK engine. The side that detects the failure must name it the
 * same on both engines; where the other side learns it from a specific alert, it must name it too. Both what the
 * handshake completion reports and what reaches the pipeline's end are checked, as the proxy acts on both.
 */
@ExtendWith(VertxExtension.class)
class HandshakeFailureTest {

  static TlsFixture fixture;

  @BeforeAll
  static void mint(Vertx vertx, @TempDir Path dir) {
    fixture = new TlsFixture(vertx, dir);
  }

  /** Valid for a.test, but it expired yesterday. */
  private static TestPki.Issued expired() {
    return fixture.pki().expiredServer(fixture.ca(), "old.test", "a.test");
  }

  /** A client certificate from the CA the listener does not trust. */
  private static TestPki.Issued stranger() {
    return fixture.pki().client(fixture.otherCa(), "stranger");
  }

  private static TlsFixture.Outcome handshake(String engine, String serverMore, String clientTls) {
    return TlsFixture.handshake(fixture.pair(serving(engine, fixture.server(), serverMore), clientTls), "a.test");
  }

  private static TlsFixture.Outcome handshake(String engine, String serverMore, String serverName, String clientMore) {
    return handshake(engine, serverMore, verifying(engine, fixture.ca(), serverName, clientMore));
  }

  /** The keys of a listener's {@code tls:} that require client certificates from the fixture's CA. */
  private static String requiringClients() {
    return ", clientAuth: required, clientCa: " + fixture.ca().certFile();
  }

  /** A listener requiring client certificates (and {@code more}), and a client presenting {@code cert}. */
  private static TlsFixture.Outcome clientCertificate(String engine, String more, TestPki.Issued cert) {
    return handshake(engine, requiringClients() + more, "a.test",
        cert == null ? "" : ", cert: " + cert.certFile() + ", key: " + cert.keyFile());
  }

  /** What a listener requiring client certificates makes of {@code client}, a client built outside tlsproxy. */
  private static TlsFixture.Side serverSideWith(String engine, SslContext client) {
    ListenerTls tls = fixture.pair(serving(engine, fixture.server(), requiringClients()), null);
    return TlsFixture.handshake(tls.server().select(null).newHandler(ByteBufAllocator.DEFAULT),
        client.newHandler(ByteBufAllocator.DEFAULT, "a.test", 443)).server();
  }

  private static void assertReason(String expected, TlsFixture.Side side) {
    assertFalse(side.succeeded(), "the handshake should fail");
    assertEquals(expected, HandshakeFailure.reason(side.failure()), String.valueOf(side.failure()));
    for (Throwable t : side.errors()) {
      assertEquals(expected, HandshakeFailure.reason(t), t.toString());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void serverCertificateFromAnUntrustedCaIsUnknownCa(String engine) {
    TlsFixture.Outcome o = handshake(engine, "", verifying(engine, fixture.otherCa(), "a.test", ""));
    // The server learns it from an alert: certificate_unknown from the JDK, internal_error from BoringSSL.
    assertReason(HandshakeFailure.UNKNOWN_CA, o.client());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void expiredServerCertificateIsCertificateExpired(String engine) throws Exception {
    TestPki.Issued old = expired();
    SslContext expired = SslContextBuilder.forServer(old.key(), old.cert(), fixture.ca().cert())
        .sslProvider(TlsFixture.provider(engine)).build();
    ClientTls client = TlsFixture.clientSide(fixture.pair(null, verifying(engine, fixture.ca(), "a.test", "")));
    assertReason(HandshakeFailure.CERTIFICATE_EXPIRED, TlsFixture.handshake(expired, client, "a.test").client());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void serverCertificateForAnotherNameIsHostnameMismatch(String engine) {
    assertReason(HandshakeFailure.HOSTNAME_MISMATCH, handshake(engine, "", "b.test", "").client());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void noCommonCipherSuiteIsNoSharedCipherOnBothSides(String engine) {
    TlsFixture.Outcome o = handshake(engine,
        ", protocols: [TLSv1.2], cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]", "a.test",
        ", protocols: [TLSv1.2], cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]");
    assertReason(HandshakeFailure.NO_SHARED_CIPHER, o.server());
    assertReason(HandshakeFailure.NO_SHARED_CIPHER, o.client());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void noCommonProtocolVersionIsProtocolVersionOnBothSides(String engine) {
    TlsFixture.Outcome o = handshake(engine, ", policy: modern", "a.test", ", protocols: [TLSv1.2]");
    assertReason(HandshakeFailure.PROTOCOL_VERSION, o.server());
    assertReason(HandshakeFailure.PROTOCOL_VERSION, o.client());
  }

  /**
   * The JDK's key manager, which both engines' clients use (the proxy's upstream side included), presents no
   * certificate that none of the server's accepted CAs issued: to the server that is no certificate at all.
   */
  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void clientCertificateFromAnotherCaIsNotEvenSent(String engine) {
    assertReason(HandshakeFailure.NO_CLIENT_CERTIFICATE, clientCertificate(engine, "", stranger()).server());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void clientCertificateFromAnUntrustedCaIsUnknownCa(String engine) {
    SslContext presentingAnyway = new JdkSslContext(
        TestPki.clientContextPresentingAnyway(fixture.ca(), stranger()), true, ClientAuth.NONE);
    assertReason(HandshakeFailure.UNKNOWN_CA, serverSideWith(engine, presentingAnyway));
  }

  /** tlsproxy refuses to present an expired certificate itself, so this client is built by hand. */
  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void expiredClientCertificateIsCertificateExpired(String engine) throws Exception {
    TestPki.Issued old = expired();
    SslContext expired = SslContextBuilder.forClient().keyManager(old.key(), old.cert())
        .trustManager(fixture.ca().cert()).sslProvider(TlsFixture.provider(engine)).build();
    assertReason(HandshakeFailure.CERTIFICATE_EXPIRED, serverSideWith(engine, expired));
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void missingClientCertificateIsNoClientCertificate(String engine) {
    assertReason(HandshakeFailure.NO_CLIENT_CERTIFICATE, clientCertificate(engine, "", null).server());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void revokedClientCertificateIsCertificateRevoked(String engine) {
    Path crl = fixture.pki().crl(fixture.ca(), fixture.client());
    assertReason(HandshakeFailure.CERTIFICATE_REVOKED,
        clientCertificate(engine, ", crl: " + crl, fixture.client()).server());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void clientOutsideTheAllowListIsClientNotAllowed(String engine) {
    assertReason(HandshakeFailure.CLIENT_NOT_ALLOWED,
        clientCertificate(engine, ", allow: {commonNames: [someone-else]}", fixture.client()).server());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void plaintextToATlsListenerIsNotTls(String engine) {
    ListenerTls tls = fixture.pair(serving(engine, fixture.server(), ""), null);
    TlsFixture.Outcome o = TlsFixture.handshake(tls.server().select(null).newHandler(ByteBufAllocator.DEFAULT),
        new ChannelInboundHandlerAdapter() {
          @Override
          public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", StandardCharsets.US_ASCII));
          }
        });
    assertReason(HandshakeFailure.NOT_TLS, o.server());
  }
}
