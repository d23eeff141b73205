package io.tlsproxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.tlsproxy.starttls.StartTlsDialogue;
import io.tlsproxy.starttls.Step;
import io.tlsproxy.tls.HandshakeFailure;
import java.util.concurrent.TimeUnit;

/**
 * Runs a {@link StartTlsDialogue} over one channel, in front of its {@link RelayLeg}: gathers what the peer sends
 * (bounded), writes the dialogue's replies, and reports the outcome once. It leaves the pipeline when the dialogue
 * upgrades, is done or fails; whatever the peer sent with an upgrade command, before the TLS handshake, is never
 * acted on nor forwarded: the connection fails instead. The whole dialogue is bounded by a timer.
 */
final class StartTlsDriver extends ChannelInboundHandlerAdapter {

  static final String NAME = "tlsproxy-starttls";
  /** More than any dialogue keeps unread: each bounds its own lines or messages well below this. */
  private static final int MAX_BUFFERED = 64 * 1024;

  /** What the driver reports; exactly one of these, once. */
  interface Events {
    /** The reply is written: TLS starts now, and its handler goes in front of the pipeline. */
    void upgrade();

    /** The dialogue is over; {@code forward} goes to the connection's other side, then bytes are relayed. */
    void done(byte[] forward);

    /** The dialogue failed for {@code reason} (its reply, if any, written); the connection closes. */
    void failed(String reason, String detail);
  }

  private final StartTlsDialogue dialogue;
  private final Events events;
  private final long timeoutMillis;
  private ChannelHandlerContext ctx;
  private ByteBuf buffered;
  private ScheduledFuture<?> timer;
  private boolean over;

  StartTlsDriver(StartTlsDialogue dialogue, long timeoutMillis, Events events) {
    this.dialogue = dialogue;
    this.events = events;
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    buffered = ctx.alloc().buffer(256);
    timer = ctx.executor().schedule(() -> fail(Step.fail(HandshakeFailure.TIMEOUT, "no upgrade within "
        + timeoutMillis + " ms")), timeoutMillis, TimeUnit.MILLISECONDS);
    ctx.channel().config().setAutoRead(true);
    apply(dialogue.start());
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    ProxyConnection.cancel(timer);
    if (buffered != null) {
      buffered.release();
      buffered = null;
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (over || !(msg instanceof ByteBuf in)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    try {
      if (buffered.readableBytes() + in.readableBytes() > MAX_BUFFERED) {
        fail(Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "more than " + MAX_BUFFERED + " bytes unread"));
        return;
      }
      buffered.writeBytes(in);
    } finally {
      in.release();
    }
    apply(dialogue.read(buffered));
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == ChannelInputShutdownEvent.INSTANCE && !over) {
      fail(dialogue.inputEnded());
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!over) {
      fail(dialogue.inputEnded());
    }
    ctx.fireChannelInactive();
  }

  private void apply(Step step) {
    if (over) {
      return;
    }
    switch (step.action()) {
      case MORE -> { }
      case SEND -> write(step.reply());
      case UPGRADE -> {
        if (buffered.isReadable()) {
          // Sent with the upgrade command, so before TLS: acting on it or passing it on would let a man in the
          // middle speak for the client inside the protected session (CVE-2011-0411).
          fail(Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, buffered.readableBytes()
              + " bytes sent after the upgrade command, before TLS"));
          return;
        }
        over = true;
        write(step.reply());
        ctx.pipeline().remove(this);
        events.upgrade();
      }
      case DIRECT_TLS -> {
        // The peer began with its TLS handshake: what it sent goes to TLS, which is put in front first.
        over = true;
        ByteBuf first = buffered.retainedSlice();
        ChannelPipeline pipeline = ctx.pipeline();
        pipeline.remove(this);
        events.upgrade();
        pipeline.fireChannelRead(first);
        pipeline.fireChannelReadComplete();
      }
      case DONE -> {
        over = true;
        if (buffered.isReadable()) {
          ctx.fireChannelRead(buffered.retainedSlice());
        }
        ctx.pipeline().remove(this);
        events.done(step.forward());
      }
      case FAIL -> fail(step);
      default -> throw new IllegalStateException(step.toString());
    }
  }

  private void fail(Step step) {
    if (over) {
      return;
    }
    over = true;
    ProxyConnection.cancel(timer);
    ctx.channel().config().setAutoRead(false);
    write(step.reply());
    events.failed(step.reason(), step.detail());
  }

  private void write(byte[] bytes) {
    if (bytes.length > 0) {
      ctx.writeAndFlush(Unpooled.wrappedBuffer(bytes), ctx.voidPromise());
    }
  }
}
