package io.tlsproxy.routing;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.tlsproxy.metrics.RejectReason;

/**
 * The front of a passthrough connection's pipeline: buffers the client's first bytes until its ClientHello is
 * complete (bounded by {@link ClientHello#MAX_BUFFERED}), picks the route for its SNI name, then
 * passes every buffered byte on untouched and steps out of the way. Nothing here decrypts or changes a byte.
 * Netty's own {@code AbstractSniHandler} was not used because it treats input that is not TLS, or a malformed
 * hello, as a hello without SNI, which would send such input to the default route instead of refusing it.
 */
public final class PassthroughRouter extends ChannelInboundHandlerAdapter {

  public static final String NAME = "tlsproxy-client-hello";

  private final RouteTable routes;
  private final RoutingEvents events;
  private ByteBuf buffered;
  private int need = 1;
  private boolean decided;
  private boolean refused;

  public PassthroughRouter(RouteTable routes, RoutingEvents events) {
    this.routes = routes;
    this.events = events;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused || decided || !(msg instanceof ByteBuf in)) {
      if (decided && !refused) {
        ctx.fireChannelRead(msg);
      } else {
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    events.touch();
    if (buffered == null) {
      buffered = ctx.alloc().buffer(Math.min(ClientHello.MAX_BUFFERED, Math.max(512, in.readableBytes())));
    }
    int room = ClientHello.MAX_BUFFERED - buffered.readableBytes();
    buffered.writeBytes(in, in.readerIndex(), Math.min(room, in.readableBytes()));
    boolean overflow = in.readableBytes() > room;
    in.release();
    if (buffered.readableBytes() < need && !overflow) {
      return;
    }
    ClientHello.Result r = ClientHello.parse(buffered);
    if (!r.complete()) {
      if (overflow || r.need() > ClientHello.MAX_BUFFERED) {
        refuse(ClientHello.TOO_LARGE);
      }
      need = r.need();
      return;
    }
    if (r.failure() != null) {
      refuse(r.failure());
      return;
    }
    decided = true;
    events.serverName(r.serverName());
    Route route = routes.select(r.serverName());
    if (route == null) {
      ctx.writeAndFlush(TlsAlert.unrecognizedName());
      refuse(RejectReason.UNKNOWN_SERVER_NAME);
      return;
    }
    events.routed(route);
    ByteBuf out = buffered;
    buffered = null;
    ctx.fireChannelRead(out);
    ctx.pipeline().remove(this);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == ChannelInputShutdownEvent.INSTANCE && !decided) {
      // The client stopped sending before its hello was complete.
      refuse(RejectReason.PEER_CLOSED);
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!decided) {
      // A reset before the hello was complete: counted like a close.
      refuse(RejectReason.PEER_CLOSED);
    }
    ctx.fireExceptionCaught(cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!decided) {
      refuse(RejectReason.PEER_CLOSED);
    }
    ctx.fireChannelInactive();
  }

  private void refuse(RejectReason reason) {
    decided = true;
    refused = true;
    release();
    events.rejected(reason);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    release();
  }

  private void release() {
    if (buffered != null) {
      buffered.release();
      buffered = null;
    }
  }
}
