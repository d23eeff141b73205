package io.tlsproxy.proxy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.tlsproxy.tls.ServerTls;

/** Reads the client's SNI name, then installs the TLS handler of the certificate that answers it. */
final class SniSelector extends SniHandler {

  private final long handshakeTimeoutMillis;

  SniSelector(ServerTls tls, long handshakeTimeoutMillis) {
    super(tls::select, handshakeTimeoutMillis);
    this.handshakeTimeoutMillis = handshakeTimeoutMillis;
  }

  @Override
  protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
    SslHandler handler = super.newSslHandler(context, allocator);
    handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
    return handler;
  }
}
