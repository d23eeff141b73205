package io.tlsproxy.upstream;

import io.tlsproxy.config.Address;
import io.tlsproxy.config.HostPort;
import io.tlsproxy.config.UpstreamConfig;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.tls.ClientTls;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Everything about choosing where one upstream's connections go: the addresses its endpoints resolve to
 * (re-resolved every {@code dnsTtl}), their health (active checks, when configured) and the open connections
 * per address (for least-connections). One pool per {@link UpstreamConfig}: a listener's default upstream or one
 * of its routes, started on the listener's event loop. Readers take no lock: the address table is an immutable
 * snapshot replaced in one step, and the counters are atomic.
 */
public final class UpstreamPool {

  /** Resolves a host name to all of its addresses; blocking, so it runs on a worker thread. */
  public interface Resolver {
    List<InetAddress> resolve(String host) throws UnknownHostException;
  }

  /**
   * The operating system's resolver through the JDK: it reads /etc/hosts and follows nsswitch and the search
   * domains of resolv.conf (which short Kubernetes Service names need), as {@code getent ahosts} does.
   */
  public static final Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));

  private static final Logger LOG = Logger.getLogger("tlsproxy.upstream");

  private final String owner;
  private final UpstreamConfig config;
  private final ListenerMetrics metrics;
  private final Resolver resolver;
  /** Whether any endpoint is a host name (not an IP literal or Unix socket): only then is there anything to resolve. */
  private final boolean hasNames;
  private final AtomicInteger turn = new AtomicInteger();
  /** Per configured endpoint, in configuration order, the targets to dial. Replaced, never changed. */
  private volatile Map<Address, List<UpstreamTarget>> targets;
  private final Map<Address, Boolean> resolveFailing = new LinkedHashMap<>();
  private Vertx vertx;
  private long resolveTimer = -1;
  private boolean stopped;
  private HealthChecker checker;

  /** {@code owner} names the listener (or route) in logs and metrics. */
  public UpstreamPool(String owner, UpstreamConfig config, ListenerMetrics metrics, Resolver resolver) {
    this.owner = owner;
    this.config = config;
    this.metrics = metrics;
    this.resolver = resolver;
    Map<Address, List<UpstreamTarget>> initial = new LinkedHashMap<>();
    for (Address e : config.endpoints()) {
      UpstreamTarget literal = UpstreamTarget.literal(e);
      initial.put(e, List.of(literal != null ? literal : new UpstreamTarget(e, null)));
    }
    this.targets = Collections.unmodifiableMap(initial);
    // Through an egress proxy, names are the proxy's to resolve (see Dialer): they are dialled as they are.
    this.hasNames = config.via() == null && config.endpoints().stream().anyMatch(UpstreamTarget::hasName);
  }

  /**
   * Resolves every host name, then starts re-resolution and health checks on the calling context (the owner's
   * event loop). A name that does not resolve does not fail the start: it is dialled by name until it resolves.
   * {@code dialer} dials the checks; {@code tls} (null for a plaintext upstream) makes them TLS handshakes.
   */
  public Future<Void> start(Vertx vertx, Dialer dialer, ClientTls tls) {
    this.vertx = vertx;
    Future<Void> first = hasNames ? resolveAll() : Future.succeededFuture();
    if (hasNames && !config.dnsTtl().isZero()) {
      resolveTimer = vertx.setPeriodic(config.dnsTtl().toMillis(), id -> resolveAll());
    }
    return first.onComplete(x -> {
      if (config.healthCheck() != null && !stopped) {
        checker = new HealthChecker(owner, config.healthCheck(), vertx, dialer, config.via(), tls,
            OnwardProxyHeader.forHealthCheck(config.proxyProtocol()), this::allTargets, this::publishHealth);
        publishHealth();
        checker.start();
      }
    });
  }

  /** Stops re-resolution and health checks; connections still open keep their targets. */
  public void stop() {
    if (vertx != null && resolveTimer >= 0) {
      vertx.cancelTimer(resolveTimer);
    }
    stopped = true;
    if (checker != null) {
      checker.stop();
    }
  }

  /**
   * The targets to try for one new connection, best first. With {@code dnsTtl: 0} the names are resolved for it
   * first. The returned future never fails: a name that does not resolve keeps its last good addresses.
   */
  public Future<List<UpstreamTarget>> order() {
    if (hasNames && config.dnsTtl().isZero() && vertx != null) {
      // transform, not map: even a failure here must still give the connection its endpoints to try.
      return resolveAll().transform(x -> Future.succeededFuture(order(config.balance(), targets,
          turn.getAndIncrement())));
    }
    return Future.succeededFuture(order(config.balance(), targets, turn.getAndIncrement()));
  }

  /**
   * Healthy targets in the order of {@code balance}; {@code turn} rotates the start. When none is healthy, all
   * of them are tried, as Envoy does in its panic mode and unlike HAProxy, which refuses: a health check can be
   * wrong (its own path broken, a too strict timeout) while connections would work, and trying costs at most a
   * connect timeout each, whereas refusing turns a checker problem into an outage. {@code requiredForReady} is
   * the way to take the proxy out of a load balancer instead.
   */
  static List<UpstreamTarget> order(UpstreamConfig.Balance balance, Map<Address, List<UpstreamTarget>> byEndpoint,
                                    int turn) {
    if (byEndpoint.size() == 1) {
      List<UpstreamTarget> only = byEndpoint.values().iterator().next();
      if (only.size() == 1) {
        return only; // one address, healthy or not: nothing to order, and no list built per connection
      }
    }
    boolean anyHealthy = byEndpoint.values().stream().flatMap(List::stream).anyMatch(UpstreamTarget::healthy);
    List<UpstreamTarget> out = new ArrayList<>();
    if (balance == UpstreamConfig.Balance.FAILOVER) {
      // Endpoints strictly in order; the addresses of one name are equals, so they share its load.
      for (List<UpstreamTarget> ts : byEndpoint.values()) {
        out.addAll(rotate(usable(ts, anyHealthy), turn));
      }
      return out;
    }
    List<UpstreamTarget> all = new ArrayList<>();
    byEndpoint.values().forEach(ts -> all.addAll(usable(ts, anyHealthy)));
    out = rotate(all, turn);
    if (balance == UpstreamConfig.Balance.LEAST_CONNECTIONS) {
      // A stable sort of the rotated list: fewest open connections first, ties taken round-robin.
      out.sort(Comparator.comparingInt(UpstreamTarget::active));
    }
    return out;
  }

  private static List<UpstreamTarget> usable(List<UpstreamTarget> ts, boolean anyHealthy) {
    return anyHealthy ? ts.stream().filter(UpstreamTarget::healthy).toList() : ts;
  }

  private static List<UpstreamTarget> rotate(List<UpstreamTarget> ts, int turn) {
    List<UpstreamTarget> out = new ArrayList<>(ts.size());
    int start = ts.isEmpty() ? 0 : Math.floorMod(turn, ts.size());
    for (int i = 0; i < ts.size(); i++) {
      out.add(ts.get((start + i) % ts.size()));
    }
    return out;
  }

  /** A connection now relays through {@code t}; pair with one {@link #release}. */
  public void acquire(UpstreamTarget t) {
    t.acquire();
  }

  public void release(UpstreamTarget t) {
    t.release();
  }

  /** True when health checks are off or at least one target is healthy. */
  public boolean anyHealthy() {
    return allTargets().stream().anyMatch(UpstreamTarget::healthy);
  }

  /** Whether {@code /readyz} depends on this upstream having a healthy endpoint. */
  /** The listener, or {@code listener/route}, whose upstream this is. */
  public String owner() {
    return owner;
  }

  public boolean requiredForReady() {
    return config.healthCheck() != null && config.healthCheck().requiredForReady();
  }

  List<UpstreamTarget> allTargets() {
    List<UpstreamTarget> all = new ArrayList<>();
    targets.values().forEach(all::addAll);
    return all;
  }

  Map<Address, List<UpstreamTarget>> targets() {
    return targets;
  }

  // ---- resolution -------------------------------------------------------------------------------------------

  /** Resolves every host name on a worker thread and installs the result on the caller's context. */
  private Future<Void> resolveAll() {
    List<Future<List<InetAddress>>> lookups = new ArrayList<>();
    List<HostPort> names = new ArrayList<>();
    for (Address e : config.endpoints()) {
      // Only host names: IP literals and Unix sockets are dialled as written.
      if (UpstreamTarget.hasName(e)) {
        HostPort hp = (HostPort) e;
        names.add(hp);
        lookups.add(vertx.executeBlocking(() -> resolver.resolve(hp.host()), false));
      }
    }
    return Future.join(lookups).transform(x -> {
      Map<Address, List<UpstreamTarget>> now = targets;
      Map<Address, List<UpstreamTarget>> next = new LinkedHashMap<>(now);
      for (int i = 0; i < names.size(); i++) {
        HostPort e = names.get(i);
        Future<List<InetAddress>> f = lookups.get(i);
        if (f.succeeded() && !f.result().isEmpty()) {
          next.put(e, merge(e, now.get(e), f.result()));
          if (Boolean.TRUE.equals(resolveFailing.put(e, false))) {
            LOG.info("listener=" + owner + " upstream " + e + " resolves again");
          }
        } else {
          metrics.upstreamResolveFailed(e.toString());
          String why = f.failed() ? String.valueOf(f.cause().getMessage()) : "no addresses";
          boolean wasFailing = Boolean.TRUE.equals(resolveFailing.put(e, true));
          LOG.log(wasFailing ? Level.FINE : Level.WARNING, "listener=" + owner + " upstream " + e
              + " did not resolve (" + why + "); keeping " + describe(now.get(e)));
        }
      }
      targets = Collections.unmodifiableMap(next);
      if (checker != null) {
        publishHealth();
      }
      return Future.<Void>succeededFuture();
    }).onFailure(t -> LOG.log(Level.SEVERE, "listener=" + owner + " resolving upstream names failed: " + t, t));
  }

  /** The targets for {@code addresses}, reusing the old target of an address that stays (health, counts). */
  private List<UpstreamTarget> merge(HostPort e, List<UpstreamTarget> old, List<InetAddress> addresses) {
    List<UpstreamTarget> out = new ArrayList<>();
    for (InetAddress a : addresses) {
      UpstreamTarget kept = old.stream().filter(t -> a.equals(t.address())).findFirst().orElse(null);
      if (out.stream().noneMatch(t -> a.equals(t.address()))) {
        out.add(kept != null ? kept : new UpstreamTarget(e, a));
      }
    }
    if (!sameAddresses(old, out)) {
      LOG.info("listener=" + owner + " upstream " + e + " resolves to " + describe(out));
    }
    return List.copyOf(out);
  }

  private static boolean sameAddresses(List<UpstreamTarget> a, List<UpstreamTarget> b) {
    return a.stream().map(UpstreamTarget::address).toList().equals(b.stream().map(UpstreamTarget::address).toList());
  }

  private static String describe(List<UpstreamTarget> ts) {
    return ts.stream().map(t -> t.address() == null ? "(unresolved)" : t.address().getHostAddress()).toList()
        .toString();
  }

  /** The health gauge per configured endpoint: up while any of its addresses is. */
  private void publishHealth() {
    targets.forEach((e, ts) -> metrics.upstreamEndpointUp(e.toString(),
        ts.stream().anyMatch(UpstreamTarget::healthy)));
  }
}
