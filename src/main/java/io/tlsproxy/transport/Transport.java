package io.tlsproxy.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.unix.DomainSocketAddress;
import io.tlsproxy.config.Address;
import io.tlsproxy.config.HostPort;
import io.tlsproxy.config.UnixAddress;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.buffer.VertxByteBufAllocator;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

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
   * A client bootstrap for Unix domain sockets, with the allocator and half-closure of {@link #clientBootstrap}
   * (TCP_NODELAY does not apply, and there is nothing to resolve). Check {@link #unixSocketsUnavailable} first.
   */
  public static Bootstrap unixClientBootstrap(Vertx vertx) {
    VertxInternal vx = (VertxInternal) vertx;
    return new Bootstrap()
        .channelFactory(vx.transport().channelFactory(true))
        .option(ChannelOption.ALLOCATOR, VertxByteBufAllocator.POOLED_ALLOCATOR)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true);
  }

  /** A TCP server bootstrap: {@link #serverBootstrap(Vertx, Context, Address)} for a {@link HostPort}. */
  public static ServerBootstrap serverBootstrap(Vertx vertx, Context context) {
    return serverBootstrap(vertx, context, false);
  }

  /**
   * A server bootstrap for {@code address} that accepts on Vert.x's acceptor loop and places every accepted
   * connection on the event loop of {@code context}, with the allocator, TCP_NODELAY (TCP only) and half-closure
   * the relay expects.
   */
  public static ServerBootstrap serverBootstrap(Vertx vertx, Context context, Address address) {
    return serverBootstrap(vertx, context, address instanceof UnixAddress);
  }

  private static ServerBootstrap serverBootstrap(Vertx vertx, Context context, boolean unix) {
    VertxInternal vx = (VertxInternal) vertx;
    ServerBootstrap b = new ServerBootstrap()
        .group(vx.acceptorEventLoopGroup(), eventLoop(context))
        .channelFactory(vx.transport().serverChannelFactory(unix))
        .childOption(ChannelOption.ALLOCATOR, VertxByteBufAllocator.POOLED_ALLOCATOR)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    if (!unix) {
      b.option(ChannelOption.SO_REUSEADDR, true).childOption(ChannelOption.TCP_NODELAY, true);
    }
    return b;
  }

  /**
   * Null when this Vert.x can open Unix domain sockets, else why not, for a one-line error. They need the native
   * epoll transport (Linux): the JDK's NIO transport, which Vert.x falls back to, has no abstract names, and
   * Vert.x offers it no domain sockets.
   */
  public static String unixSocketsUnavailable(Vertx vertx) {
    var t = ((VertxInternal) vertx).transport();
    if (vertx.isNativeTransportEnabled() && t.supportsDomainSockets()) {
      return null;
    }
    Throwable cause = vertx.unavailableNativeTransportCause();
    return "Unix sockets need the native epoll transport (Linux x86-64 or arm64), which is not in use"
        + (cause != null ? ": " + cause.getMessage() : "");
  }

  /**
   * The Netty address of a configured one: a {@link DomainSocketAddress} for a Unix socket, whose path starts
   * with a NUL byte for an abstract name (unix(7)); for TCP, unresolved, so that the bootstrap resolves it.
   */
  public static SocketAddress socketAddress(Address address) {
    if (address instanceof UnixAddress u) {
      return new DomainSocketAddress(u.abstractName() ? "\0" + u.name() : u.name());
    }
    HostPort hp = (HostPort) address;
    return InetSocketAddress.createUnresolved(hp.host(), hp.port());
  }

  /**
   * A socket address as logs show it: {@code unix:/path} or {@code unix:@name} for a Unix socket (whose peer is
   * usually unnamed: then the listener's own path, which says more than nothing), {@code host:port} for TCP.
   */
  public static String describe(SocketAddress address, SocketAddress local) {
    if (address instanceof DomainSocketAddress d) {
      String path = d.path();
      if (path.isEmpty() && local instanceof DomainSocketAddress l) {
        path = l.path();
      }
      return UnixAddress.PREFIX + (path.startsWith("\0") ? "@" + path.substring(1) : path);
    }
    return String.valueOf(address);
  }

  /** The Netty event loop behind a Vert.x context. */
  public static EventLoop eventLoop(Context context) {
    return ((ContextInternal) context).nettyEventLoop();
  }
}
