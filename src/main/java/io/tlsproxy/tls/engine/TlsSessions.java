package io.tlsproxy.tls.engine;

import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** What the log and the metrics want to know about a completed TLS session; call on the channel's event loop. */
public final class TlsSessions {

  private TlsSessions() {
  }

  /**
   * The key exchange group of {@code engine}'s completed handshake, e.g. X25519MLKEM768, or null where the engine
   * does not expose it: the JDK's SSLSession has no such property on Java 17; BoringSSL reports it per connection.
   */
  public static String group(SSLEngine engine) {
    if (engine instanceof ReferenceCountedOpenSslEngine openssl) {
      try {
        // Called on the event loop right after the handshake, while the engine is certainly alive.
        long ssl = openssl.sslPointer();
        return ssl == 0 ? null : SSL.getGroupName(ssl);
      } catch (Exception e) {
        return null;
      }
    }
    return null;
  }

  /**
   * Whether {@code engine}'s handshake resumed a session. BoringSSL says so directly. JSSE does not: there a resumed
   * session is one created before this handshake began (BoringSSL's creation times are whole seconds, so this
   * test would be wrong there).
   */
  public static boolean resumed(SSLEngine engine, SSLSession session, long handshakeStartNanos) {
    if (engine instanceof ReferenceCountedOpenSslEngine openssl) {
      long ssl = openssl.sslPointer();
      return ssl != 0 && SSL.isSessionReused(ssl);
    }
    long startMillis = System.currentTimeMillis() - (System.nanoTime() - handshakeStartNanos) / 1_000_000;
    return session.getCreationTime() < startMillis - 1;
  }

  /** {@code TLSv1.3/TLS_AES_128_GCM_SHA256}. */
  public static String describe(SSLSession session) {
    return session.getProtocol() + "/" + session.getCipherSuite();
  }

  /**
   * The subject of the peer's certificate, or null when it presented none. Not asked when none was requested:
   * the answer would be an exception, whose stack trace costs more than the rest of this per connection.
   */
  public static String peerSubject(SSLEngine engine, SSLSession session) {
    if (!engine.getNeedClientAuth() && !engine.getWantClientAuth()) {
      return null;
    }
    try {
      Certificate[] certs = session.getPeerCertificates();
      return certs.length > 0 && certs[0] instanceof X509Certificate x
          ? x.getSubjectX500Principal().getName() : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }
}
