package io.tlsproxy.routing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** TLS alerts the proxy sends itself, before any handshake, so in a plaintext record. */
final class TlsAlert {

  /**
   * A fatal {@code unrecognized_name} alert (RFC 6066 section 3, alert 112): the client learns why it was
   * refused instead of seeing a bare close.
   */
  static ByteBuf unrecognizedName() {
    return Unpooled.wrappedBuffer(new byte[] {21, 3, 3, 0, 2, 2, 112});
  }

  private TlsAlert() {
  }
}
