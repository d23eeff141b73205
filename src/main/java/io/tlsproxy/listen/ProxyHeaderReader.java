package io.tlsproxy.listen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.ListenerConfig.ProxyProtocolMode;
import io.tlsproxy.proxyproto.DecodeResult;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.proxyproto.ProxyHeaderDecoder;
import io.tlsproxy.relay.ProxyConnection;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * The first handler of a downstream pipeline on a listener with {@code proxyProtocol: accept | optional}: it
 * reads the PROXY header a load balancer sends before anything else, hands it to the connection, removes itself
 * and passes every byte after the header on from the start of the pipeline (so that TLS, installed meanwhile,
 * sees them). Header bytes are held only by the decoder, which is bounded; the wait is bounded by a timer.
 */
final class ProxyHeaderReader extends ChannelInboundHandlerAdapter {

  static final String NAME = "tlsproxy-proxy-header";

  /** Fixed reasons besides the decoder's {@code HeaderError} labels; metric label values. */
  static final String MISSING = "missing";
  static final String TIMEOUT = "timeout";
  static final String PEER_CLOSED = "peer_closed";
  static final String TRUNCATED = "truncated";

  private final ProxyConnection connection;
  private final boolean optional;
  private final long timeoutMillis;
  private final ProxyHeaderDecoder decoder = new ProxyHeaderDecoder();
  private ChannelHandlerContext ctx;
  private ScheduledFuture<?> timer;
  private boolean done;

  private ProxyHeaderReader(ProxyConnection connection, boolean optional, long timeoutMillis) {
    this.connection = connection;
    this.optional = optional;
    this.timeoutMillis = timeoutMillis;
  }

  /**
   * Puts a reader at the front of {@code down}'s pipeline when the listener expects PROXY headers. Returns false
   * (and does nothing) when it does not; otherwise the connection continues in {@code onProxyHeader}.
   */
  static boolean installIfEnabled(ListenerConfig cfg, Channel down, ProxyConnection connection) {
    if (cfg.proxyProtocol() == null || cfg.proxyProtocol() == ProxyProtocolMode.OFF) {
      return false;
    }
    // The header comes before the TLS handshake, so it gets the same time; plaintext listeners have no such limit.
    long ms = (cfg.tls() != null ? cfg.tls().handshakeTimeout() : ListenerConfig.DEFAULT_PROXY_PROTOCOL_TIMEOUT)
        .toMillis();
    down.pipeline().addFirst(NAME, new ProxyHeaderReader(connection, cfg.proxyProtocol()
        == ProxyProtocolMode.OPTIONAL, ms));
    return true;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    timer = ctx.executor().schedule(this::timedOut, timeoutMillis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (done || !(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    ByteBuffer view = buf.nioBuffer();
    int start = view.position();
    DecodeResult r = decoder.decode(view);
    buf.skipBytes(view.position() - start);
    if (r instanceof DecodeResult.Decoded d) {
      complete(d.header(), buf);
    } else if (r instanceof DecodeResult.NotProxy && optional) {
      complete(null, withPrefix(buf));
    } else if (r instanceof DecodeResult.NotProxy) {
      buf.release();
      fail(MISSING, "the connection did not start with a PROXY protocol header");
    } else if (r instanceof DecodeResult.Invalid i) {
      buf.release();
      fail(i.error().label(), "PROXY protocol header: " + i.detail());
    } else {
      buf.release(); // every byte of it is in the decoder now
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (!done && evt == ChannelInputShutdownEvent.INSTANCE) {
      if (optional && !decoder.committed()) {
        // The client finished without a header: what it sent (if anything) is its data, and so is its FIN.
        complete(null, withPrefix(Unpooled.EMPTY_BUFFER));
        ctx.pipeline().fireUserEventTriggered(evt);
        return;
      }
      ReferenceCountUtil.release(evt);
      endedEarly();
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!done && optional && !decoder.committed()) {
      complete(null, withPrefix(Unpooled.EMPTY_BUFFER));
    } else if (!done) {
      endedEarly();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelTimer();
  }

  private void endedEarly() {
    fail(decoder.buffered() == 0 ? PEER_CLOSED : TRUNCATED, "the client closed after " + decoder.buffered()
        + " bytes of a PROXY protocol header");
  }

  private void timedOut() {
    if (done) {
      return;
    }
    if (optional && !decoder.committed()) {
      // Nothing that claims to be a header came: proceed without one (a client that waits for the server to
      // speak first ends up here).
      complete(null, withPrefix(Unpooled.EMPTY_BUFFER));
    } else {
      fail(TIMEOUT, "no complete PROXY protocol header within " + timeoutMillis + " ms (" + decoder.buffered()
          + " bytes received)");
    }
  }

  /** The bytes the decoder took while matching a signature that then did not match, followed by {@code rest}. */
  private ByteBuf withPrefix(ByteBuf rest) {
    byte[] prefix = decoder.bufferedBytes();
    if (prefix.length == 0) {
      return rest;
    }
    ByteBuf all = ctx.alloc().buffer(prefix.length + rest.readableBytes());
    all.writeBytes(prefix).writeBytes(rest);
    rest.release();
    return all;
  }

  private void complete(ProxyHeader header, ByteBuf rest) {
    done = true;
    cancelTimer();
    ctx.pipeline().remove(this);
    connection.onProxyHeader(header);
    if (rest.isReadable()) {
      // From the head: handlers the connection added just now (TLS) must see these bytes first.
      ctx.pipeline().fireChannelRead(rest).fireChannelReadComplete();
    } else {
      rest.release();
    }
  }

  private void fail(String reason, String detail) {
    done = true;
    cancelTimer();
    ctx.channel().config().setAutoRead(false);
    connection.onProxyHeaderFailed(reason, detail);
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
    }
  }
}
