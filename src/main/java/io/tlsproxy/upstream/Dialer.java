package io.tlsproxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.proxy.ProxyHandler;
import io.netty.resolver.AddressResolver;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.tlsproxy.config.ViaConfig;
import io.tlsproxy.transport.Transport;
import io.vertx.core.Vertx;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Opens TCP and Unix socket connections to upstreams with plain Netty on Vert.x's transport (see
 * {@link Transport}), TCP ones directly or through an egress proxy's tunnel. Each connection is placed on the event
 * loop it is given, so that it shares the loop of the client connection it serves.
 */
public final class Dialer {

  static final String PROXY_HANDLER = "tlsproxy-via";

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
   * the pipeline before it connects. With {@code via} (TCP addresses only), the returned future completes once the
   * proxy's tunnel to {@code address} is open, and {@code timeout} covers the connect to the proxy and its
   * handshake together.
   */
  public ChannelFuture connect(EventLoop loop, SocketAddress address, Duration timeout, ChannelHandler handler,
                               ViaConfig via) {
    Bootstrap transport = address instanceof DomainSocketAddress ? unix : base;
    if (transport == null) {
      throw new IllegalStateException("no Unix socket transport for " + address);
    }
    Bootstrap b = transport.clone(loop)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
        .handler(handler);
    return via == null ? b.connect(address) : tunnel(b, loop, (InetSocketAddress) address, timeout, via);
  }

  /**
   * Registers the channel, resolves the proxy's address, then connects through a {@link ProxyHandler} placed
   * first in the pipeline; once the tunnel is open the handler is removed, so that what the caller adds first
   * (TLS) sits next to the socket, and the bytes after are the endpoint's own. A name in {@code target} is sent
   * to the proxy as it is, not resolved here: the proxy is there because this host cannot reach (and often not
   * resolve) the names behind it, and with SOCKS5 a locally resolved address would also skip the proxy's own
   * name-based rules. Half-closure is off during the handshake, so a proxy that hangs up fails it at once.
   */
  private ChannelFuture tunnel(Bootstrap b, EventLoop loop, InetSocketAddress target, Duration timeout,
                               ViaConfig via) {
    ChannelFuture registered = b.register();
    Channel ch = registered.channel();
    ChannelPromise ready = ch.newPromise();
    ScheduledFuture<?> deadline = loop.schedule(() -> fail(ready, ch, new ViaProxy.EgressProxyException(
        ViaProxy.PROXY_TIMEOUT, via.describe() + ": no tunnel to " + target + " within " + timeout.toMillis()
        + " ms", null), via), timeout.toMillis(), TimeUnit.MILLISECONDS);
    ready.addListener(f -> deadline.cancel(false));
    registered.addListener(r -> {
      if (!r.isSuccess()) {
        fail(ready, ch, r.cause(), via);
        return;
      }
      @SuppressWarnings("unchecked")
      AddressResolver<SocketAddress> resolver = (AddressResolver<SocketAddress>) b.config().resolver()
          .getResolver(loop);
      resolver.resolve(InetSocketAddress.createUnresolved(via.address().host(), via.address().port()))
          .addListener((Future<SocketAddress> proxy) -> {
            if (!proxy.isSuccess()) {
              fail(ready, ch, proxy.cause(), via);
            } else if (!ready.isDone()) {
              open(ch, ready, target, (InetSocketAddress) proxy.getNow(), via);
            }
          });
    });
    return ready;
  }

  private static void open(Channel ch, ChannelPromise ready, InetSocketAddress target, InetSocketAddress proxy,
                           ViaConfig via) {
    ProxyHandler handler = ViaProxy.handler(via, proxy);
    ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
    ch.pipeline().addFirst(PROXY_HANDLER, handler);
    handler.connectFuture().addListener(t -> {
      if (!t.isSuccess()) {
        fail(ready, ch, t.cause(), via);
      } else if (!ready.isDone()) {
        ch.pipeline().remove(handler);
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        ready.trySuccess();
      }
    });
    // Through the pipeline, so that the handler sees the target and dials the proxy instead.
    ch.connect(target).addListener(c -> {
      if (!c.isSuccess()) {
        fail(ready, ch, c.cause(), via);
      }
    });
  }

  private static void fail(ChannelPromise ready, Channel ch, Throwable cause, ViaConfig via) {
    if (ready.tryFailure(ViaProxy.classify(cause, via))) {
      ch.close();
    }
  }

  /**
   * One of refused, timeout, dns, other, or for a dial through an egress proxy proxy_refused, proxy_auth,
   * proxy_timeout: why a connect failed, for the log and the metric label.
   */
  public static String failureReason(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ViaProxy.EgressProxyException e) {
        return e.reason();
      }
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
