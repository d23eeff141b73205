package io.tlsproxy;

import io.tlsproxy.admin.AdminServer;
import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.ProxyConfig;
import io.tlsproxy.config.RouteConfig;
import io.tlsproxy.config.WarmupConfig;
import io.tlsproxy.listen.ProxyServer;
import io.tlsproxy.metrics.PrometheusMetrics;
import io.tlsproxy.routing.ListenerSetup;
import io.tlsproxy.routing.Route;
import io.tlsproxy.routing.RouteTable;
import io.tlsproxy.tls.CertificateReloader;
import io.tlsproxy.tls.ListenerTls;
import io.tlsproxy.tls.TlsFactory;
import io.tlsproxy.tls.TlsSections;
import io.tlsproxy.tls.policy.PolicyResolver;
import io.tlsproxy.tls.policy.ProcessTls;
import io.tlsproxy.warmup.WarmUp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Turns a loaded configuration into listeners ready to run (each with its TLS and routes), then starts them with
 * the admin endpoint and the certificate reloader. Wiring only: the work is in the packages it calls.
 */
public final class Startup {

  /** What start-up produced: the listeners, the weaker-than-default choices to warn about, the whole config. */
  public record Plan(List<ListenerSetup> listeners, List<String> warnings, ProxyConfig config,
                     TlsFactory factory) {
  }

  /** A running proxy with its admin endpoint and the reloader of its certificates. */
  public record Running(ProxyServer proxy, AdminServer admin, CertificateReloader reloader) {
    /** Reloads every listener's certificate material now, as SIGHUP does. */
    public Future<Integer> reloadCertificates() {
      return reloader.check(true);
    }
  }

  private Startup() {
  }

  /**
   * Logs every weaker-than-default choice, publishes certificate expiry, binds every listener, then the admin
   * endpoint (so that readiness implies listening), and logs where each one listens. {@code onQuit} is run when
   * the admin endpoint is asked to stop the proxy.
   */
  public static Future<Running> start(Vertx vertx, Plan plan, PrometheusMetrics metrics, Runnable onQuit) {
    Logger log = Logger.getLogger("tlsproxy");
    plan.warnings().forEach(log::warning);
    CertificateReloader reloader = new CertificateReloader(vertx,
        plan.listeners().stream().map(ListenerSetup::tls).toList(), plan.factory(), metrics,
        plan.config().reload(), Clock.systemUTC());
    reloader.start();
    rotateTicketKeys(vertx, plan.listeners(), log);
    WarmupConfig warmup = plan.config().warmup();
    return ProxyServer.start(vertx, plan.listeners(), metrics, plan.config().logging())
        .compose(server -> {
          for (ListenerSetup s : plan.listeners()) {
            log.info("listener " + s.name() + " listening on " + server.address(s.name())
                + (s.serverTls() != null ? " (TLS)"
                : s.config().passthrough() ? " (TLS passthrough)" : " (plaintext)") + " -> "
                + describe(s.routes(), s.config().passthrough()));
          }
          // Not ready until warmed up: the admin endpoint answers /readyz 503 "warming up" meanwhile.
          server.warmingUp(warmup.enabled());
          return AdminServer.start(vertx, plan.config().admin(), metrics, server, plan.listeners(), onQuit)
              .onSuccess(admin -> log.info("admin listening on " + plan.config().admin().listen().host() + ":"
                  + admin.port() + " (/metrics /healthz /readyz /certs" + (plan.config().admin().enableQuit()
                  ? ", POST /quitquitquit from loopback)" : ")")))
              .compose(admin -> warmUp(vertx, plan, metrics, server).map(x -> new Running(server, admin, reloader)))
              .recover(t -> server.close().transform(x -> Future.failedFuture(t)));
        });
  }

  /** Runs the warm-up when it is on, records what it did, then lets {@code server} report ready. Never fails. */
  private static Future<Void> warmUp(Vertx vertx, Plan plan, PrometheusMetrics metrics, ProxyServer server) {
    WarmupConfig warmup = plan.config().warmup();
    if (!warmup.enabled()) {
      return Future.succeededFuture();
    }
    List<ListenerConfig> real = plan.listeners().stream().map(ListenerSetup::config).toList();
    return WarmUp.run(vertx, warmup, real, plan.config().logging(), configs -> {
      ConfigProblems problems = new ConfigProblems();
      List<ListenerSetup> setups = setups(configs, plan.factory(), problems, new ArrayList<>());
      problems.throwIfAny();
      return setups;
    }).map(result -> {
      metrics.warmedUp(result.took(), result.setups());
      server.warmingUp(false);
      return null;
    });
  }

  /** {@code default [127.0.0.1:8080] (TLS)}, each route in order and the default last. */
  private static String describe(RouteTable routes, boolean passthrough) {
    List<String> out = new ArrayList<>();
    for (Route r : routes.all()) {
      out.add(r.name() + " " + r.upstream().endpoints()
          + (r.upstream().via() != null ? " via " + r.upstream().via().describe() : "")
          + (passthrough ? " (client's TLS)" : r.clientTls() != null ? " (TLS)" : " (plaintext)"));
    }
    return String.join(", ", out);
  }

  /** Each OpenSSL listener gets a new session ticket key on its own schedule (JDK listeners rotate their own). */
  private static void rotateTicketKeys(Vertx vertx, List<ListenerSetup> listeners, Logger log) {
    for (ListenerSetup s : listeners) {
      if (s.serverTls() != null && s.serverTls().policy().openssl()) {
        vertx.setPeriodic(s.config().tls().sessionTicketKeyRotation().toMillis(), id -> {
          s.serverTls().rotateTicketKeys();
          log.info("listener " + s.name() + ": session ticket key rotated; the previous key still resumes");
        });
      }
    }
  }

  /**
   * Applies the process-wide TLS settings, then builds every listener's TLS and routes. All problems are collected
   * and thrown at once as a {@link io.tlsproxy.config.ConfigException}.
   */
  public static Plan prepare(ProxyConfig config, Clock clock) {
    ConfigProblems problems = new ConfigProblems();
    List<String> warnings = new ArrayList<>();
    List<TlsSections> sections = new ArrayList<>();
    for (int i = 0; i < config.listeners().size(); i++) {
      sections.add(TlsSections.of(config.listeners().get(i), "listeners[" + i + "]"));
    }
    ProcessTls.apply(sections.stream().flatMap(s -> s.policies().stream()).toList(), problems, warnings);
    TlsFactory factory = new TlsFactory(new PolicyResolver(), clock);
    List<ListenerSetup> setups = setups(config.listeners(), factory, problems, warnings);
    String fallback = PolicyResolver.defaultEngineFallback();
    if (fallback != null && setups.stream().anyMatch(s -> s.tls().usesTls())) {
      warnings.add("engine: " + fallback);
    }
    problems.throwIfAny();
    return new Plan(List.copyOf(setups), List.copyOf(warnings), config, factory);
  }

  /**
   * Builds each listener's TLS and routes with {@code factory}; what cannot be built is added to {@code problems}
   * and left out. The real listeners and the warm-up's mirrors of them are built by this same code.
   */
  private static List<ListenerSetup> setups(List<ListenerConfig> listeners, TlsFactory factory,
                                            ConfigProblems problems, List<String> warnings) {
    List<ListenerSetup> setups = new ArrayList<>();
    for (int i = 0; i < listeners.size(); i++) {
      ListenerConfig l = listeners.get(i);
      ListenerTls tls = ListenerTls.build(l.name(), TlsSections.of(l, "listeners[" + i + "]"), factory, problems);
      warnings.addAll(RouteConfig.shadowedNames(l.routes()));
      String socketMode = l.socketModeWarning("listeners[" + i + "]");
      if (socketMode != null) {
        warnings.add(socketMode);
      }
      if (tls != null) {
        warnings.addAll(tls.warnings());
        setups.add(new ListenerSetup(l, tls, RouteTable.of(l, tls)));
      }
    }
    return setups;
  }

}
