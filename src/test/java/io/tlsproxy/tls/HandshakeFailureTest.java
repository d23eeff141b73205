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
import io.netty.handler.ssl.SslHandler;
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

  @TempDir
  static Path dir;
  static Vertx vertx;
  static TestPki.Issued ca;
  static TestPki.Issued otherCa;
  static TestPki.Issued server;
  static TestPki.Issued expiredServer;
  static TestPki.Issued client;
  static TestPki.Issued strangerClient;

  @BeforeAll
  static void mint(Vertx v) {
    vertx = v;
    TestPki pki = new TestPki(dir);
    ca = pki.ca("hf-ca");
    otherCa = pki.ca("hf-other-ca");
    server = pki.server(ca, "a.test", "a.test");
    expiredServer = pki.expiredServer(ca, "old.test", "a.test");
    client = pki.client(ca, "client");
    strangerClient = pki.client(otherCa, "stranger");
  }

  private static TlsFixture.Outcome handshake(String engine, String serverMore, String clientTls) {
    return TlsFixture.handshake(TlsFixture.pair(vertx, dir, serving(engine, server, serverMore), clientTls), "a.test");
  }

  private static TlsFixture.Outcome handshake(String engine, String serverMore, String serverName, String clientMore) {
    return handshake(engine, serverMore, verifying(engine, ca, serverName, clientMore));
  }

  /** A listener requiring client certificates from {@code ca} (and {@code more}); a client presenting {@code cert}. */
  private static TlsFixture.Outcome clientCertificate(String engine, String more, TestPki.Issued cert) {
    return handshake(engine, ", clientAuth: required, clientCa: " + ca.certFile() + more,
        "a.test", cert == null ? "" : ", cert: " + cert.certFile() + ", key: " + cert.keyFile());
  }

  /** The server side of {@code tls} for a client that sends no server name. */
  private static SslHandler serverHandler(ListenerTls tls) {
    return tls.server().select(null).newHandler(ByteBufAllocator.DEFAULT);
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
    TlsFixture.Outcome o = handshake(engine, "", verifying(engine, otherCa, "a.test", ""));
    // The server learns it from an alert: certificate_unknown from the JDK, internal_error from BoringSSL.
    assertReason(HandshakeFailure.UNKNOWN_CA, o.client());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void expiredServerCertificateIsCertificateExpired(String engine) throws Exception {
    SslContext expired = SslContextBuilder.forServer(expiredServer.key(), expiredServer.cert(), ca.cert())
        .sslProvider(TlsFixture.provider(engine)).build();
    ListenerTls pair = TlsFixture.pair(vertx, dir, serving(engine, server, ""), verifying(engine, ca, "a.test", ""));
    assertReason(HandshakeFailure.CERTIFICATE_EXPIRED,
        TlsFixture.handshake(expired, TlsFixture.client(pair), "a.test").client());
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
    assertReason(HandshakeFailure.NO_CLIENT_CERTIFICATE, clientCertificate(engine, "", strangerClient).server());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void clientCertificateFromAnUntrustedCaIsUnknownCa(String engine) {
    ListenerTls tls = TlsFixture.pair(vertx, dir, serving(engine, server, ", clientAuth: required, clientCa: "
        + ca.certFile()), null);
    SslContext presentingAnyway = new JdkSslContext(TestPki.clientContextPresentingAnyway(ca, strangerClient), true,
        ClientAuth.NONE);
    assertReason(HandshakeFailure.UNKNOWN_CA, TlsFixture.handshake(serverHandler(tls),
        presentingAnyway.newHandler(ByteBufAllocator.DEFAULT, "a.test", 443)).server());
  }

  /** tlsproxy refuses to present an expired certificate itself, so this client is built by hand. */
  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void expiredClientCertificateIsCertificateExpired(String engine) throws Exception {
    ListenerTls tls = TlsFixture.pair(vertx, dir, serving(engine, server,
        ", clientAuth: required, clientCa: " + ca.certFile()), null);
    SslContext expired = SslContextBuilder.forClient().keyManager(expiredServer.key(), expiredServer.cert())
        .trustManager(ca.cert()).sslProvider(TlsFixture.provider(engine)).build();
    assertReason(HandshakeFailure.CERTIFICATE_EXPIRED, TlsFixture.handshake(serverHandler(tls),
        expired.newHandler(ByteBufAllocator.DEFAULT, "a.test", 443)).server());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void missingClientCertificateIsNoClientCertificate(String engine) {
    assertReason(HandshakeFailure.NO_CLIENT_CERTIFICATE, clientCertificate(engine, "", null).server());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void revokedClientCertificateIsCertificateRevoked(String engine) {
    TestPki pki = new TestPki(dir);
    assertReason(HandshakeFailure.CERTIFICATE_REVOKED,
        clientCertificate(engine, ", crl: " + pki.crl(ca, client), client).server());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void clientOutsideTheAllowListIsClientNotAllowed(String engine) {
    assertReason(HandshakeFailure.CLIENT_NOT_ALLOWED,
        clientCertificate(engine, ", allow: {commonNames: [someone-else]}", client).server());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void plaintextToATlsListenerIsNotTls(String engine) {
    ListenerTls tls = TlsFixture.pair(vertx, dir, serving(engine, server, ""), null);
    TlsFixture.Outcome o = TlsFixture.handshake(serverHandler(tls), new ChannelInboundHandlerAdapter() {
      @Override
      public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", StandardCharsets.US_ASCII));
      }
    });
    assertReason(HandshakeFailure.NOT_TLS, o.server());
  }
}
