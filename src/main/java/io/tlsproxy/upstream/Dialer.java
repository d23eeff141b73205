package io.tlsproxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.unix.DomainSocketAddress;
import io.tlsproxy.transport.Transport;
import io.vertx.core.Vertx;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;

/**
 * Opens TCP and Unix socket connections to upstreams with plain Netty on Vert.x's transport (see
 * {@link Transport}). Each connection is placed on the event loop it is given, so that it shares the loop of the
 * client connection it serves.
 */
public final class Dialer {

  private final Bootstrap base;
  /** Null when the transport has no Unix sockets; start-up refuses Unix endpoints then. */
  private final Bootstrap unix;

  public Dialer(Vertx vertx) {
    base = Transport.clientBootstrap(vertx);
    unix = Transport.unixSocketsUnavailable(vertx) == null ? Transport.unixClientBootstrap(vertx) : null;
  }

  /**
   * Connects to {@code address} (a TCP address, resolved first if it is a bare name, or a Unix socket) on
   * {@code loop}, failing with Netty's {@code ConnectTimeoutException} after {@code timeout}; {@code handler} is in
   * the pipeline before it connects.
   */
  public ChannelFuture connect(EventLoop loop, SocketAddress address, Duration timeout, ChannelHandler handler) {
    Bootstrap b = address instanceof DomainSocketAddress ? unix : base;
    if (b == null) {
      throw new IllegalStateException("no Unix socket transport for " + address);
    }
    return b.clone(loop)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
        .handler(handler)
        .connect(address);
  }

  /** One of refused, timeout, dns, other: why a TCP connect failed, for the log and the metric label. */
  public static String failureReason(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ConnectTimeoutException || c instanceof SocketTimeoutException) {
        return "timeout";
      }
      if (c instanceof UnknownHostException) {
        return "dns";
      }
      if (c instanceof ConnectException) {
        return "refused";
      }
    }
    return "other";
  }
}
