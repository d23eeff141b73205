package io.tlsproxy.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.vertx.core.Vertx;
import io.vertx.core.impl.buffer.VertxByteBufAllocator;
import io.vertx.core.internal.VertxInternal;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Opens TCP connections to upstreams with plain Netty, on Vert.x's transport (epoll or NIO), allocator and name
 * resolver. Not through a Vert.x {@code NetClient}: its sockets each carry an outbound message queue the relay never
 * uses, a few KiB per idle connection. Each connection is placed on the event loop it is given, so that it shares
 * the loop of the client connection it serves.
 */
final class Dialer {

  private final Bootstrap base;

  Dialer(Vertx vertx) {
    VertxInternal vx = (VertxInternal) vertx;
    base = new Bootstrap()
        .channelFactory(vx.transport().channelFactory(false))
        .resolver(vx.nameResolver().nettyAddressResolverGroup())
        .option(ChannelOption.ALLOCATOR, VertxByteBufAllocator.POOLED_ALLOCATOR)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true);
  }

  /**
   * Connects to {@code address} (resolved first if it is a bare name) on {@code loop}, failing with Netty's
   * {@code ConnectTimeoutException} after {@code timeout}; {@code handler} is in the pipeline before it connects.
   */
  ChannelFuture connect(EventLoop loop, InetSocketAddress address, Duration timeout, ChannelHandler handler) {
    return base.clone(loop)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
        .handler(handler)
        .connect(address);
  }
}
