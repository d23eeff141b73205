package io.tlsproxy.transport;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The last handler of every channel the proxy opens or accepts. The relay leg in front of it handles all events
 * once it is installed; this catches what comes before (a connection waiting for its handshake turn) or on a
 * health check's channel: an error closes the channel and is logged at FINE, never reaching Netty's tail, which
 * would log it as unhandled.
 */
@ChannelHandler.Sharable
public final class PipelineEnd extends ChannelInboundHandlerAdapter {

  public static final String NAME = "tlsproxy-end";
  public static final PipelineEnd INSTANCE = new PipelineEnd();
  private static final Logger LOG = Logger.getLogger("tlsproxy.proxy");

  private PipelineEnd() {
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(Level.FINE, "channel " + ctx.channel().remoteAddress() + " error", cause);
    ctx.close();
  }
}
