package io.tlsproxy.listen;

import io.tlsproxy.config.Address;
import io.tlsproxy.config.ConfigException;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.LoggingConfig;
import io.tlsproxy.config.UnixAddress;
import io.tlsproxy.config.UpstreamConfig;
import io.tlsproxy.metrics.CloseReason;
import io.tlsproxy.metrics.ProxyMetrics;
import io.tlsproxy.routing.ListenerSetup;
import io.tlsproxy.transport.Transport;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.BindException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** All listeners of a running proxy: start, ports, drain and stop. */
public final class ProxyServer {

  private static final Duration DRAIN_BACKSTOP = Duration.ofSeconds(5);

  private final Vertx vertx;
  private final Map<String, ListenerVerticle> listeners;
  private final List<String> deployments;
  private volatile boolean draining;
  private volatile boolean warmingUp;

  private ProxyServer(Vertx vertx, Map<String, ListenerVerticle> listeners, List<String> deployments) {
    this.vertx = vertx;
    this.listeners = listeners;
    this.deployments = deployments;
  }

  /**
   * Binds every listener. Fails with a {@link ConfigException} naming the listener's key when a port cannot be
   * bound; listeners already bound are then closed again.
   */
  public static Future<ProxyServer> start(Vertx vertx, List<ListenerSetup> setups, ProxyMetrics metrics,
                                         LoggingConfig logging) {
    ConfigException noUnix = unixSocketsUnsupported(vertx, setups);
    if (noUnix != null) {
      return Future.failedFuture(noUnix);
    }
    Map<String, ListenerVerticle> verticles = new LinkedHashMap<>();
    List<String> ids = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < setups.size(); i++) {
      ListenerSetup setup = setups.get(i);
      String key = "listeners[" + i + "].listen";
      ListenerVerticle v = new ListenerVerticle(setup, metrics.listener(setup.name()), logging);
      verticles.put(setup.name(), v);
      chain = chain.compose(x -> vertx.deployVerticle(v)
          .recover(t -> Future.failedFuture(bindError(key, setup, t)))
          .map(id -> {
            ids.add(id);
            return null;
          }));
    }
    ProxyServer server = new ProxyServer(vertx, verticles, ids);
    return chain.map(x -> server).recover(t -> server.close().transform(ignored -> Future.failedFuture(t)));
  }

  /**
   * The error for the first Unix socket address (listen or endpoint) when {@code vertx} cannot open Unix sockets,
   * naming its key; null when it can, or when no address is one. For the start and for {@code --check}.
   */
  public static ConfigException unixSocketsUnsupported(Vertx vertx, List<ListenerSetup> setups) {
    String key = firstUnixAddress(setups);
    String why = key == null ? null : Transport.unixSocketsUnavailable(vertx);
    return why == null ? null : new ConfigException(key + ": " + why + "; use a host:port instead");
  }

  /** The key of the first Unix socket address among the listeners and their upstreams, or null when none is. */
  private static String firstUnixAddress(List<ListenerSetup> setups) {
    for (int i = 0; i < setups.size(); i++) {
      ListenerConfig c = setups.get(i).config();
      String at = "listeners[" + i + "]";
      if (c.listen() instanceof UnixAddress) {
        return at + ".listen";
      }
      String key = firstUnixEndpoint(at + ".upstream", c.upstream());
      for (int r = 0; key == null && r < c.routes().size(); r++) {
        key = firstUnixEndpoint(at + ".routes[" + r + "].upstream", c.routes().get(r).upstream());
      }
      if (key != null) {
        return key;
      }
    }
    return null;
  }

  private static String firstUnixEndpoint(String at, UpstreamConfig upstream) {
    List<Address> endpoints = upstream == null ? List.of() : upstream.endpoints();
    for (int e = 0; e < endpoints.size(); e++) {
      if (endpoints.get(e) instanceof UnixAddress) {
        return at + ".endpoints[" + e + "]";
      }
    }
    return null;
  }

  private static Throwable bindError(String key, ListenerSetup setup, Throwable t) {
    String addr = setup.config().listen().toString();
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof UnixSocketFile.Unusable) {
        return new ConfigException(key + ": cannot listen on " + addr + ": " + c.getMessage());
      }
      if (c instanceof BindException || String.valueOf(c.getMessage()).contains("Address already in use")) {
        return new ConfigException(key + ": cannot listen on " + addr + ": address already in use; stop the "
            + "other process or choose another port");
      }
      if (c instanceof java.net.SocketException || c instanceof java.net.UnknownHostException) {
        return new ConfigException(key + ": cannot listen on " + addr + ": " + c.getMessage());
      }
    }
    return new ConfigException(key + ": cannot listen on " + addr + ": " + t.getMessage());
  }

  /** The port a listener is bound to (useful when it was configured as 0). */
  public int port(String listener) {
    ListenerVerticle v = listeners.get(listener);
    if (v == null) {
      throw new IllegalArgumentException("no listener named " + listener);
    }
    return v.actualPort();
  }

  /** Where a listener listens, as logs show it: {@code host:port} (with the port bound) or {@code unix:/path}. */
  public String address(String listener) {
    ListenerVerticle v = listeners.get(listener);
    if (v == null) {
      throw new IllegalArgumentException("no listener named " + listener);
    }
    return v.describeAddress();
  }

  /** True from the moment a drain starts: readiness probes then send new connections elsewhere. */
  public boolean isDraining() {
    return draining;
  }

  /** True while the start-up warm-up runs: listening, but not yet reporting ready. */
  public boolean isWarmingUp() {
    return warmingUp;
  }

  /** Holds readiness back while the start-up warm-up runs ({@code true}), and releases it ({@code false}). */
  public void warmingUp(boolean on) {
    warmingUp = on;
  }

  /**
   * The listeners (or listener/route) whose upstream has {@code healthCheck.requiredForReady} and no healthy endpoint now: while
   * there is one, {@code /readyz} answers 503.
   */
  public List<String> withoutHealthyUpstream() {
    List<String> out = new ArrayList<>();
    listeners.values().forEach(v -> v.pools().forEach(pool -> {
      if (pool.requiredForReady() && !pool.anyHealthy()) {
        out.add(pool.owner());
      }
    }));
    return out;
  }

  /** Completes when every listener's event loop has run a task within {@code timeout}. */
  public Future<Void> ping(Duration timeout) {
    List<Future<Void>> pings = new ArrayList<>();
    listeners.values().forEach(v -> pings.add(v.ping()));
    Promise<Void> all = Promise.promise();
    long timer = vertx.setTimer(timeout.toMillis(),
        id -> all.tryFail("no answer within " + timeout.toMillis() + " ms"));
    Future.all(pings).onComplete(ar -> {
      vertx.cancelTimer(timer);
      all.tryComplete();
    });
    return all.future();
  }

  /** How many connections are open across the listeners. */
  public int openConnections() {
    return listeners.values().stream().mapToInt(v -> v.connections().size()).sum();
  }

  /**
   * Stops accepting at once, lets open connections finish for up to {@code timeout}, then closes what is left.
   * Completes when every listener's connections are closed.
   */
  public Future<Void> drain(Duration timeout) {
    draining = true;
    return stopAccepting(timeout);
  }

  /**
   * Drains like {@link #drain(Duration)}, or with {@code keepAccepting} reports not ready at once but goes on
   * accepting for the whole {@code timeout}, then stops accepting and closes what is still open.
   */
  public Future<Void> drain(Duration timeout, boolean keepAccepting) {
    if (!keepAccepting) {
      return drain(timeout);
    }
    draining = true;
    Promise<Void> done = Promise.promise();
    vertx.setTimer(Math.max(1, timeout.toMillis()),
        id -> stopAccepting(Duration.ZERO).onComplete(done));
    return done.future();
  }

  private Future<Void> stopAccepting(Duration timeout) {
    long timer = vertx.setTimer(Math.max(1, timeout.toMillis()),
        id -> listeners.values().forEach(v -> v.connections().closeAll(CloseReason.DRAIN_TIMEOUT)));
    List<Future<Void>> shutdowns = new ArrayList<>();
    // The listeners' own deadline is a backstop behind ours, so that our close reason is the one logged.
    Duration backstop = timeout.plus(DRAIN_BACKSTOP);
    listeners.values().forEach(v -> shutdowns.add(v.shutdown(backstop)));
    return Future.join(shutdowns).onComplete(x -> vertx.cancelTimer(timer)).mapEmpty();
  }

  /** Undeploys every listener at once; open connections are cut. */
  public Future<Void> close() {
    List<Future<Void>> undeploys = new ArrayList<>();
    for (String id : deployments) {
      undeploys.add(vertx.undeploy(id));
    }
    deployments.clear();
    return Future.join(undeploys).mapEmpty();
  }
}
