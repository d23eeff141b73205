package io.tlsproxy.warmup;

import io.tlsproxy.config.HostPort;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.LoggingConfig;
import io.tlsproxy.config.WarmupConfig;
import io.tlsproxy.listen.ProxyServer;
import io.tlsproxy.metrics.PrometheusMetrics;
import io.tlsproxy.routing.ListenerSetup;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs one start-up warm-up: mints throwaway material where a listener needs it, starts a loopback backend per
 * configured listener, deploys a {@link Mirror} of each through the same code as real listeners, drives
 * {@link WarmupConfig#connections()} set-ups through them within {@link WarmupConfig#maxDuration()}, then removes
 * all of it. It never fails: a warm-up that cannot run is logged in one line, and the proxy goes on cold.
 */
public final class WarmUp {

  /**
   * The address the warm-up binds its listeners and backends to; 127.0.0.1 unless this system property says
   * otherwise. Only tests set it: to an address no interface has, to see that a warm-up which cannot bind logs
   * one line and the proxy becomes ready all the same.
   */
  public static final String HOST_PROPERTY = "tlsproxy.warmup.host";

  /** In-flight set-ups may finish after the deadline; past this much more, the warm-up is cut short. */
  private static final Duration GRACE = Duration.ofSeconds(2);

  private static final Logger LOG = Logger.getLogger("tlsproxy");

  /** What a warm-up did: set-ups completed, how long it took, and why it stopped early (null if it did not). */
  public record Result(int setups, Duration took, String failure) {
  }

  private final Vertx vertx;
  private final String host = System.getProperty(HOST_PROPERTY, "127.0.0.1");
  private final List<Backend> backends = new ArrayList<>();
  private final List<NetClient> clients = new ArrayList<>();
  private ThrowawayPki pki;
  private ProxyServer proxy;
  private PrometheusMetrics scratch;
  /** When the mirrors were listening and the first set-up could start ({@link System#nanoTime()}); 0 before. */
  private volatile long driving;

  private WarmUp(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Warms up on mirrors of {@code listeners}; {@code build} turns listener configurations into runnable listeners
   * as start-up does for the real ones (it throws when one cannot be built). Logs one line with the outcome.
   */
  public static Future<Result> run(Vertx vertx, WarmupConfig config, List<ListenerConfig> listeners,
                                   LoggingConfig logging, Function<List<ListenerConfig>, List<ListenerSetup>> build) {
    long start = System.nanoTime();
    long deadline = start + config.maxDuration().toNanos();
    WarmUp w = new WarmUp(vertx);
    Promise<Integer> bounded = Promise.promise();
    long guard = vertx.setTimer(config.maxDuration().plus(GRACE).toMillis(), id -> bounded.tryFail(
        "not done within maxDuration " + config.maxDuration().toMillis() + " ms and " + GRACE.toMillis()
            + " ms of grace"));
    w.drive(config, listeners, logging, build, deadline).onComplete(bounded::tryComplete, bounded::tryFail);
    return bounded.future().transform(ar -> {
      vertx.cancelTimer(guard);
      return w.cleanUp().transform(x -> {
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        Result r = ar.succeeded() ? new Result(ar.result(), took, null)
            : new Result(0, took, describe(ar.cause()));
        log(r, listeners.size(), w.driving == 0 ? null : Duration.ofNanos(w.driving - start));
        return Future.succeededFuture(r);
      });
    });
  }

  private Future<Integer> drive(WarmupConfig config, List<ListenerConfig> listeners, LoggingConfig logging,
                                Function<List<ListenerConfig>, List<ListenerSetup>> build, long deadline) {
    boolean needsPki = listeners.stream().anyMatch(Mirror::needsPki);
    return vertx.executeBlocking(() -> needsPki ? ThrowawayPki.mint() : null)
        .compose(minted -> {
          pki = minted;
          List<Future<Backend>> started = new ArrayList<>();
          for (ListenerConfig l : listeners) {
            started.add(Backend.start(vertx, host, Mirror.needsBackendTls(l) ? pki : null)
                .onSuccess(backends::add));
          }
          return Future.all(started).map(x -> started.stream().map(Future::result).toList());
        })
        .compose(ready -> {
          List<Mirror> mirrors = new ArrayList<>();
          for (int i = 0; i < listeners.size(); i++) {
            mirrors.add(Mirror.of(listeners.get(i), host, new HostPort(host, ready.get(i).port()), pki));
          }
          return vertx.executeBlocking(() -> build.apply(mirrors.stream().map(Mirror::config).toList()))
              .compose(setups -> {
                scratch = new PrometheusMetrics("warmup");
                // No access lines: thousands of them would bury the start-up log.
                LoggingConfig quiet = new LoggingConfig(logging.format(), logging.level(), false);
                return ProxyServer.start(vertx, setups, scratch, quiet);
              })
              .compose(server -> {
                proxy = server;
                driving = System.nanoTime();
                List<Clients.Target> targets = new ArrayList<>();
                for (Mirror m : mirrors) {
                  NetClient client = Clients.client(vertx, m, pki);
                  clients.add(client);
                  targets.add(new Clients.Target(server.port(m.config().name()), client));
                }
                return Clients.run(host, targets, config.connections(), deadline);
              });
        });
  }

  /** Closes what was started, whatever stage the warm-up reached; never fails. */
  private Future<Void> cleanUp() {
    List<Future<Void>> closing = new ArrayList<>();
    clients.forEach(c -> closing.add(c.close()));
    if (proxy != null) {
      closing.add(proxy.close());
    }
    backends.forEach(b -> closing.add(b.close()));
    return Future.join(closing).transform(x -> {
      if (scratch != null) {
        scratch.close();
      }
      if (pki != null) {
        pki.delete();
      }
      return Future.succeededFuture();
    });
  }

  /** {@code prepared}: how long minting, backends and mirrors took before the first set-up; null if not reached. */
  private static void log(Result r, int listeners, Duration prepared) {
    if (r.failure() == null) {
      LOG.info("warm-up: " + r.setups() + " connection set-ups through " + listeners + " listener"
          + (listeners == 1 ? "" : "s") + " in " + r.took().toMillis() + " ms ("
          + (prepared == null ? "not prepared in time" : prepared.toMillis() + " ms of it preparing") + ")");
    } else {
      LOG.warning("warm-up: stopped after " + r.took().toMillis() + " ms: " + r.failure()
          + "; the proxy starts without it (first connections may be slower)");
    }
  }

  private static String describe(Throwable t) {
    LOG.log(Level.FINE, "warm-up failure", t);
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
