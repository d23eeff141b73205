package io.tlsproxy.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.buffer.VertxByteBufAllocator;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

/**
 * The one place that reaches into Vert.x's internal API: Netty bootstraps on Vert.x's own event loops, transport
 * (epoll or NIO), name resolver and pooled allocator. tlsproxy accepts and dials with plain Netty rather than
 * {@code NetServer}/{@code NetClient}, whose sockets each carry an outbound message queue the relay never uses (a
 * few KiB per idle connection), but keeps everything on the loops Vert.x runs. {@code TransportTest} fails with a
 * message naming this class if a Vert.x upgrade changes what it relies on.
 */
public final class Transport {

  private Transport() {
  }

  /**
   * A client bootstrap on Vert.x's transport, resolver and allocator, with TCP_NODELAY and half-closure on; the
   * caller clones it onto the event loop each connection belongs to.
   */
  public static Bootstrap clientBootstrap(Vertx vertx) {
    VertxInternal vx = (VertxInternal) vertx;
    return new Bootstrap()
        .channelFactory(vx.transport().channelFactory(false))
        .resolver(vx.nameResolver().nettyAddressResolverGroup())
        .option(ChannelOption.ALLOCATOR, VertxByteBufAllocator.POOLED_ALLOCATOR)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true);
  }

  /**
   * A server bootstrap that accepts on Vert.x's acceptor loop and places every accepted connection on the event
   * loop of {@code context}, with the allocator, TCP_NODELAY and half-closure the relay expects.
   */
  public static ServerBootstrap serverBootstrap(Vertx vertx, Context context) {
    VertxInternal vx = (VertxInternal) vertx;
    return new ServerBootstrap()
        .group(vx.acceptorEventLoopGroup(), eventLoop(context))
        .channelFactory(vx.transport().serverChannelFactory(false))
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.ALLOCATOR, VertxByteBufAllocator.POOLED_ALLOCATOR)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
  }

  /** The Netty event loop behind a Vert.x context. */
  public static EventLoop eventLoop(Context context) {
    return ((ContextInternal) context).nettyEventLoop();
  }
}
