package io.tlsproxy.listen;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.tlsproxy.config.HostPort;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.LoggingConfig;
import io.tlsproxy.config.UnixAddress;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.relay.ConnectionTracker;
import io.tlsproxy.relay.ListenerRuntime;
import io.tlsproxy.relay.ProxyConnection;
import io.tlsproxy.routing.ListenerSetup;
import io.tlsproxy.routing.Route;
import io.tlsproxy.transport.PipelineEnd;
import io.tlsproxy.transport.Transport;
import io.tlsproxy.upstream.Dialer;
import io.tlsproxy.upstream.UpstreamPool;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One listener: accepts connections on its port and hands each to a {@link ProxyConnection}. It is deployed as a
 * single verticle instance, and every connection it accepts, with its upstream, is placed on this verticle's event
 * loop, so that the listener's state (the {@link HandshakeRateLimiter}, its open connections) needs no lock.
 *
 * <p>It accepts with a plain Netty server bootstrap on Vert.x's acceptor loop, transport and allocator rather than a
 * Vert.x {@code NetServer}: Vert.x wraps each socket in an object with its own outbound message queue, a few KiB
 * per connection that the relay, which writes to the channels directly, never uses.
 */
final class ListenerVerticle extends VerticleBase {

  private final ListenerSetup setup;
  private final ConnectionTracker tracker;
  private final ListenerMetrics metrics;
  private final LoggingConfig logging;
  private final Map<Route, UpstreamPool> pools = new ConcurrentHashMap<>();
  private ListenerRuntime runtime;
  private HandshakeRateLimiter handshakes;
  private volatile Channel server;

  ListenerVerticle(ListenerSetup setup, ListenerMetrics metrics,
                   LoggingConfig logging) {
    this.setup = setup;
    this.tracker = new ConnectionTracker();
    this.metrics = metrics;
    this.logging = logging;
  }

  /** Completes when this listener's event loop runs a task: it is alive and not blocked. */
  Future<Void> ping() {
    Promise<Void> p = Promise.promise();
    context.runOnContext(v -> p.tryComplete());
    return p.future();
  }

  /** The port bound (useful when it was configured as 0); -1 for a Unix socket. */
  int actualPort() {
    return server.localAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
  }

  /** Where this listener listens, as logs show it: {@code host:port} with the port bound, or the Unix socket. */
  String describeAddress() {
    return setup.config().listen() instanceof HostPort hp ? hp.host() + ":" + actualPort()
        : setup.config().listen().toString();
  }

  @Override
  public Future<?> start() {
    ListenerConfig cfg = setup.config();
    // TLS is done by the relay's own handlers on both legs, so the channels are plain TCP.
    Dialer dialer = new Dialer(vertx);
    List<Future<Void>> resolved = new ArrayList<>();
    for (Route route : setup.routes().all()) {
      String owner = route == setup.routes().fallback() ? cfg.name() : cfg.name() + "/" + route.name();
      UpstreamPool pool = new UpstreamPool(owner, route.upstream(), metrics, UpstreamPool.SYSTEM);
      pools.put(route, pool);
      // A health check speaks no STARTTLS dialogue: towards such an upstream it checks that TCP connects.
      boolean inBand = route.upstream().tls() != null && route.upstream().tls().startTls() != null;
      resolved.add(pool.start(vertx, dialer, inBand ? null : route.clientTls()));
    }
    runtime = new ListenerRuntime(setup, dialer, pools, tracker, metrics, logging);
    if (cfg.limits().maxHandshakesPerSecond() > 0) {
      handshakes = new HandshakeRateLimiter(cfg.name(), cfg.limits(), cfg.tls().handshakeTimeout(), metrics);
    }
    // Names are resolved before the port opens, so that the first connections go to resolved addresses.
    return Future.all(resolved).compose(x -> bind(cfg));
  }

  private Future<Channel> bind(ListenerConfig cfg) {
    if (cfg.listen() instanceof UnixAddress unix) {
      // A stale file is removed before the bind and the mode set after it, both off the event loop.
      return vertx.executeBlocking(() -> {
        UnixSocketFile.prepare(unix, cfg.name());
        return null;
      }, false).compose(x -> bind(cfg, Transport.socketAddress(unix)))
          .compose(ch -> vertx.executeBlocking(() -> {
            UnixSocketFile.applyMode(unix, cfg.socketMode());
            return ch;
          }, false).onFailure(t -> ch.close()));
    }
    HostPort hp = (HostPort) cfg.listen();
    InetSocketAddress address = new InetSocketAddress(hp.host(), hp.port());
    if (address.isUnresolved()) {
      return Future.failedFuture(new UnknownHostException(hp.host()));
    }
    return bind(cfg, address);
  }

  private Future<Channel> bind(ListenerConfig cfg, SocketAddress address) {
    ServerBootstrap bootstrap = Transport.serverBootstrap(vertx, context, cfg.listen())
        // The limiter goes in before the bind, so that it counts every connection accepted.
        .handler(ConnectionLimiter.create(cfg.name(), cfg.limits(), metrics))
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            accepted(ch);
          }
        });
    Promise<Channel> bound = Promise.promise();
    ChannelFuture f = bootstrap.bind(address);
    f.addListener(x -> {
      if (x.isSuccess()) {
        server = f.channel();
        bound.complete(f.channel());
      } else {
        bound.fail(x.cause());
      }
    });
    return bound.future();
  }

  /** A new connection, on this listener's event loop, before anything was read from it. */
  private void accepted(Channel ch) {
    ch.pipeline().addLast(PipelineEnd.NAME, PipelineEnd.INSTANCE);
    Runnable start = () -> {
      ProxyConnection connection = new ProxyConnection(runtime, ch);
      connection.start(ProxyHeaderReader.installIfEnabled(setup.config(), ch, connection));
    };
    if (handshakes == null) {
      start.run();
    } else {
      handshakes.admit(ch, start);
    }
  }

  /** This listener's open connections. */
  ConnectionTracker connections() {
    return tracker;
  }

  /** The pools of this listener's routes (empty before start). */
  Collection<UpstreamPool> pools() {
    return pools.values();
  }

  /**
   * Stops accepting at once; completes when open connections have closed, or when they are cut after
   * {@code grace}.
   */
  Future<Void> shutdown(Duration grace) {
    if (handshakes != null) {
      handshakes.stop();
    }
    if (server == null) {
      return Future.succeededFuture();
    }
    Promise<Void> drained = Promise.promise();
    server.close().addListener(f -> context.runOnContext(v -> {
      long timer = vertx.setTimer(Math.max(1, grace.toMillis()), id -> {
        runtime.cutAll();
        drained.tryComplete();
      });
      drained.future().onComplete(x -> vertx.cancelTimer(timer));
      runtime.whenDrained(drained);
    }));
    return drained.future();
  }

  @Override
  public Future<?> stop() {
    pools.values().forEach(UpstreamPool::stop);
    if (server == null) {
      return Future.succeededFuture();
    }
    Promise<Void> closed = Promise.promise();
    server.close().addListener(f -> context.runOnContext(v -> {
      runtime.cutAll();
      closed.complete();
    }));
    return closed.future();
  }
}
