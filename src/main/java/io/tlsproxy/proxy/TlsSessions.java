package io.tlsproxy.proxy;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** What the log and the metrics want to know about a completed TLS session. */
final class TlsSessions {

  private TlsSessions() {
  }

  /** The session of the TLS handler in {@code ch}'s pipeline; call only after its handshake succeeded. */
  static SSLSession of(Channel ch) {
    return ch.pipeline().get(SslHandler.class).engine().getSession();
  }

  /**
   * JSSE does not say whether a session was resumed; a resumed session was created before this handshake began.
   */
  static boolean resumed(SSLSession session, long handshakeStartNanos) {
    long startMillis = System.currentTimeMillis() - (System.nanoTime() - handshakeStartNanos) / 1_000_000;
    return session.getCreationTime() < startMillis - 1;
  }

  /** {@code TLSv1.3/TLS_AES_128_GCM_SHA256}. */
  static String describe(SSLSession session) {
    return session.getProtocol() + "/" + session.getCipherSuite();
  }

  /** The subject of the peer's certificate, or null when it presented none. */
  static String peerSubject(SSLSession session) {
    try {
      Certificate[] certs = session.getPeerCertificates();
      return certs.length > 0 && certs[0] instanceof X509Certificate x
          ? x.getSubjectX500Principal().getName() : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }
}
