package io.tlsproxy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What {@link Transport} relies on in Vert.x's internal API still holds: a message here after a Vert.x upgrade
 * means {@code Transport} needs a look, not the proxy.
 */
@ExtendWith(VertxExtension.class)
class TransportTest {

  private static final String UPGRADE = " (Transport relies on Vert.x internals; check it after a Vert.x upgrade)";

  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void eventLoopOfAContextIsTheLoopItsTasksRunOn(VertxTestContext test) {
    Context context = vertx.getOrCreateContext();
    EventLoop loop;
    try {
      loop = Transport.eventLoop(context);
    } catch (ClassCastException e) {
      fail("a Vert.x context is no longer a ContextInternal" + UPGRADE, e);
      return;
    }
    context.runOnContext(v -> test.verify(() -> {
      assertTrue(loop.inEventLoop(), "the context's tasks run on another thread than its Netty loop" + UPGRADE);
      test.completeNow();
    }));
  }

  @Test
  void acceptedAndDialledChannelsLiveOnTheContextsLoopWithTheRelaysOptions(VertxTestContext test) {
    Context context = vertx.getOrCreateContext();
    EventLoop loop = Transport.eventLoop(context);
    Channel server = Transport.serverBootstrap(vertx, context)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            test.verify(() -> {
              assertSame(loop, ch.eventLoop(), "accepted channel not on the listener's loop" + UPGRADE);
              assertEquals(Boolean.TRUE, ch.config().getOption(ChannelOption.ALLOW_HALF_CLOSURE));
              assertEquals(Boolean.TRUE, ch.config().getOption(ChannelOption.TCP_NODELAY));
            });
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg); // echo
              }
            });
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    int port = ((InetSocketAddress) server.localAddress()).getPort();
    Transport.clientBootstrap(vertx).clone(loop)
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.copiedBuffer("ping", StandardCharsets.US_ASCII));
          }

          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            String got = buf.toString(StandardCharsets.US_ASCII);
            buf.release();
            test.verify(() -> {
              assertSame(loop, ctx.channel().eventLoop(), "dialled channel not on the given loop" + UPGRADE);
              assertEquals("ping", got);
            });
            ctx.close();
            server.close();
            test.completeNow();
          }
        })
        .connect(new InetSocketAddress("localhost", port));
  }
}
