package io.tlsproxy.tls.engine;

import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import javax.net.ssl.SSLEngine;

/**
 * TLS half-close (RFC 8446 section 6.1: a close_notify ends one direction only) on both engines.
 *
 * <p>The JDK engine does it as the RFC says. Netty's OpenSSL engine does not: when the peer's close_notify
 * arrives, {@code ReferenceCountedOpenSslEngine.unwrap} closes its own outbound side too, which calls
 * {@code SSL_shutdown}; from then on BoringSSL refuses to write and the reply the peer is waiting for is lost.
 * BoringSSL itself would go on writing: only our own close_notify stops {@code SSL_write}. The engine skips that
 * shutdown when it believes it has already handled the peer's close_notify (its private {@code receivedShutdown}
 * flag), so {@link #keepWritingAfterPeerClose} sets that flag once the handshake is done, and
 * {@link #peerSentCloseNotify} asks BoringSSL instead of the engine whether the peer's close_notify came.
 *
 * <p>The flag is private to Netty. If a Netty release renames it, {@link #SUPPORTED} is false, the OpenSSL
 * engine is no longer the default (see {@code PolicyResolver}), and a test fails to say so.
 */
public final class TlsHalfClose {

  private static final VarHandle RECEIVED_SHUTDOWN = receivedShutdownFlag();

  /** Whether the OpenSSL engine can be made to carry a half-closed connection. */
  public static final boolean SUPPORTED = RECEIVED_SHUTDOWN != null;

  private TlsHalfClose() {}

  private static VarHandle receivedShutdownFlag() {
    try {
      return MethodHandles.privateLookupIn(ReferenceCountedOpenSslEngine.class, MethodHandles.lookup())
          .findVarHandle(ReferenceCountedOpenSslEngine.class, "receivedShutdown", boolean.class);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return null;
    }
  }

  /**
   * After the handshake: lets {@code engine} go on writing once the peer has sent its close_notify. Returns
   * whether it did; then the peer's close_notify no longer comes with an event or a CLOSED result, and
   * {@link #peerSentCloseNotify} is the way to learn of it. A no-op (false) for the JDK engine, which goes on
   * writing anyway and announces the close_notify.
   */
  public static boolean keepWritingAfterPeerClose(SSLEngine engine) {
    if (SUPPORTED && engine instanceof ReferenceCountedOpenSslEngine openssl) {
      RECEIVED_SHUTDOWN.setVolatile(openssl, true);
      return true;
    }
    return false;
  }

  /** Whether the peer's close_notify has been read on {@code engine}. */
  public static boolean peerSentCloseNotify(SSLEngine engine) {
    if (engine instanceof ReferenceCountedOpenSslEngine openssl) {
      // sslPointer() is 0 once the engine has been freed; the engine then reports inbound done.
      long ssl = openssl.sslPointer();
      if (ssl != 0) {
        return (SSL.getShutdown(ssl) & SSL.SSL_RECEIVED_SHUTDOWN) != 0;
      }
    }
    return engine.isInboundDone();
  }
}
