package io.tlsproxy.proxy;

import io.netty.channel.Channel;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.LoggingConfig;
import io.tlsproxy.metrics.ListenerMetrics;
import io.vertx.core.Promise;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One listener: accepts connections on its port and hands each to a {@link ProxyConnection}. It is deployed as a
 * single verticle instance, so its connect handler and all its connections run on one event loop; the
 * {@link HandshakeRateLimiter} relies on that.
 */
final class ListenerVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger("tlsproxy.proxy");

  private final ListenerSetup setup;
  private final ConnectionTracker tracker;
  private final ListenerMetrics metrics;
  private final LoggingConfig.Format logFormat;
  private NetServer server;
  private NetClient client;
  private final Map<Route, UpstreamPool> pools = new ConcurrentHashMap<>();
  private ConnectionLimiter connections;
  private HandshakeRateLimiter handshakes;
  private final List<Channel> acceptedBeforeLimiter = new ArrayList<>();

  ListenerVerticle(ListenerSetup setup, ConnectionTracker tracker, ListenerMetrics metrics,
                   LoggingConfig.Format logFormat) {
    this.setup = setup;
    this.tracker = tracker;
    this.metrics = metrics;
    this.logFormat = logFormat;
  }

  /** Completes when this listener's event loop runs a task: it is alive and not blocked. */
  Future<Void> ping() {
    Promise<Void> p = Promise.promise();
    context.runOnContext(v -> p.tryComplete());
    return p.future();
  }

  int actualPort() {
    return server.actualPort();
  }

  @Override
  public Future<?> start() {
    ListenerConfig cfg = setup.config();
    // TLS is done by our own handlers on both legs (see ProxyConnection), so Vert.x sees plain TCP. Each route
    // has its own connect timeout, given per connect.
    client = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true));
    List<Future<Void>> resolved = new ArrayList<>();
    for (Route route : setup.routes().all()) {
      String owner = route == setup.routes().fallback() ? cfg.name() : cfg.name() + "/" + route.name();
      UpstreamPool pool = new UpstreamPool(owner, route.upstream(), metrics, UpstreamPool.SYSTEM);
      pools.put(route, pool);
      resolved.add(pool.start(vertx, client, route.clientTls()));
    }
    ListenerRuntime runtime = new ListenerRuntime(setup, client, pools, tracker, metrics, logFormat);
    server = vertx.createNetServer(new NetServerOptions()
        .setHost(cfg.listen().host())
        .setPort(cfg.listen().port())
        .setTcpNoDelay(true)
        .setReuseAddress(true));
    if (cfg.limits().maxHandshakesPerSecond() > 0) {
      handshakes = new HandshakeRateLimiter(cfg.name(), cfg.limits(), cfg.tls().handshakeTimeout(), metrics);
    }
    server.connectHandler(socket -> {
      Channel ch = ListenerRuntime.channelOf(socket);
      if (connections == null) {
        acceptedBeforeLimiter.add(ch); // accepted in the instant between bind and the limiter's installation
      } else {
        connections.count(ch);
      }
      Runnable start = () -> {
        ProxyConnection c = new ProxyConnection(runtime, ch);
        tracker.add(c);
        c.start();
      };
      if (handshakes == null) {
        start.run();
      } else {
        handshakes.admit(ch, start);
      }
    });
    server.exceptionHandler(t -> LOG.log(Level.FINE, "listener=" + cfg.name() + " accept error", t));
    // Names are resolved before the port opens, so that the first connections go to resolved addresses.
    return Future.all(resolved).compose(x -> server.listen()).map(s -> {
      connections = ConnectionLimiter.install(server, cfg.name(), cfg.limits(), metrics);
      acceptedBeforeLimiter.forEach(connections::count);
      acceptedBeforeLimiter.clear();
      return s;
    });
  }

  /** The pools of this listener's routes (empty before start). */
  Collection<UpstreamPool> pools() {
    return pools.values();
  }

  /** Stops accepting at once; completes when open connections have closed, or are cut after {@code grace}. */
  Future<Void> shutdown(java.time.Duration grace) {
    if (handshakes != null) {
      handshakes.stop();
    }
    return server == null ? Future.succeededFuture()
        : server.shutdown(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  @Override
  public Future<?> stop() {
    pools.values().forEach(UpstreamPool::stop);
    return Future.join(server == null ? Future.succeededFuture() : server.close(),
        client == null ? Future.succeededFuture() : client.close());
  }
}
