package io.tlsproxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.tlsproxy.tls.engine.TlsHalfClose;
import io.tlsproxy.transport.PipelineEnd;
import java.util.ArrayDeque;
import javax.net.ssl.SSLEngine;

/**
 * One leg of a relay, last in its channel's pipeline but for {@link PipelineEnd}. It forwards every
 * buffer to the other leg as is (no copy), reads again only while the other leg can take more (Netty's write
 * watermarks), and turns end-of-input, TLS events and errors into calls on its {@link ProxyConnection}.
 */
final class RelayLeg extends ChannelInboundHandlerAdapter {

  static final String NAME = "tlsproxy-relay";

  private final ProxyConnection connection;
  private ChannelHandlerContext ctx;
  private RelayLeg peer;
  /** Bytes read before the other leg exists; bounded because reading stops as soon as one arrives. */
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>(2);
  private boolean inputEnded;
  /**
   * The TLS engine of this leg, once its handshake is done, if it is one whose peer's close_notify comes without
   * an event: the OpenSSL engine once {@link TlsHalfClose} has kept it writing, or after an early close event.
   */
  private SSLEngine closeNotifyUnannounced;
  /** The TLS engine of this leg once its handshake succeeded; null on a plaintext leg and before. */
  private SSLEngine tls;
  private long bytesIn;
  private long bytesForwarded;

  RelayLeg(ProxyConnection connection) {
    this.connection = connection;
  }

  Channel channel() {
    return ctx.channel();
  }

  long bytesIn() {
    return bytesIn;
  }

  /** Bytes handed to the other leg; what was read but never forwarded is not counted. */
  long bytesForwarded() {
    return bytesForwarded;
  }

  boolean inputEnded() {
    return inputEnded;
  }

  /** Joins this leg to {@code other}: what was read so far is written there, then reading starts. */
  void link(RelayLeg other) {
    this.peer = other;
    boolean wrote = false;
    ByteBuf buf;
    while ((buf = pending.poll()) != null) {
      forwarded(buf.readableBytes());
      other.ctx.write(buf, other.ctx.voidPromise());
      wrote = true;
    }
    if (wrote) {
      other.ctx.flush();
    }
    if (!inputEnded) {
      setReading(other.channel().isWritable());
    }
  }

  /** Sets up a new upstream channel's pipeline: this leg, then the end. */
  ChannelInitializer<Channel> initializer() {
    RelayLeg leg = this;
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.pipeline().addLast(NAME, leg).addLast(PipelineEnd.NAME, PipelineEnd.INSTANCE);
      }
    };
  }

  void setReading(boolean on) {
    ctx.channel().config().setAutoRead(on);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releasePending();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    int n = buf.readableBytes();
    bytesIn += n;
    connection.touch();
    RelayLeg to = peer;
    if (to == null) {
      pending.add(buf);
      setReading(false);
      return;
    }
    forwarded(n);
    to.ctx.write(buf, to.ctx.voidPromise());
    if (!to.channel().isWritable()) {
      setReading(false);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    RelayLeg to = peer;
    if (to != null) {
      to.ctx.flush();
    }
    if (closeNotifyUnannounced != null && !inputEnded && TlsHalfClose.peerSentCloseNotify(closeNotifyUnannounced)) {
      closeNotifyReceived(); // the peer's close_notify, which gets no event of its own
    }
  }

  private SSLEngine engine() {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    return ssl == null ? null : ssl.engine();
  }

  /**
   * Nothing valid can follow a close_notify, and the engine would leave whatever does in SslHandler's buffer:
   * reading stops, so a peer cannot make that buffer grow. The other direction keeps flowing.
   */
  private void closeNotifyReceived() {
    setReading(false);
    endInput();
  }

  private void endInput() {
    if (!inputEnded) {
      inputEnded = true;
      connection.onInputEnded(this);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    RelayLeg from = peer;
    if (from != null && !from.inputEnded && ctx.channel().isWritable()) {
      from.setReading(true);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent e) {
      SSLEngine engine = e.isSuccess() ? engine() : null;
      tls = engine;
      if (engine != null && TlsHalfClose.keepWritingAfterPeerClose(engine)) {
        closeNotifyUnannounced = engine;
      }
      connection.onHandshake(this, e.cause());
    } else if (evt instanceof SniCompletionEvent e && e.cause() != null) {
      // The SNI handler reports its own handshake timeout this way, then closes the channel: a handshake failure.
      connection.onHandshake(this, e.cause());
    } else if (evt instanceof SniCompletionEvent e) {
      connection.onServerName(e.hostname());
    } else if (evt == ChannelInputShutdownEvent.INSTANCE) {
      // FIN: this side has finished sending. The other direction keeps flowing. After a TLS handshake, a FIN
      // without the peer's close_notify may be a truncation; both engines are asked whether one came.
      if (tls != null && !inputEnded && !TlsHalfClose.peerSentCloseNotify(tls)) {
        connection.onTruncated(this);
      }
      endInput();
    } else if (evt instanceof SslCloseCompletionEvent e && e.isSuccess()) {
      // TLS close_notify, as a rule. But once our own close_notify is out, Netty's OpenSSL engine reports every
      // later unwrap as CLOSED (ReferenceCountedOpenSslEngine#newResult), data included, and SslHandler fires
      // this event once, on the first of them. Only the engine knows whether the peer's close_notify came.
      SSLEngine engine = engine();
      if (engine == null || TlsHalfClose.peerSentCloseNotify(engine)) {
        closeNotifyReceived();
      } else {
        closeNotifyUnannounced = engine;
      }
    }
    // Other events (idle, channel input shutdown read complete) are of no use to the relay. Not passed on.
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releasePending();
    connection.onInactive(this);
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    connection.onError(this, cause);
  }

  private void forwarded(int n) {
    bytesForwarded += n;
    connection.onForwarded(this, n);
  }

  private void releasePending() {
    ByteBuf b;
    while ((b = pending.poll()) != null) {
      b.release();
    }
  }
}
