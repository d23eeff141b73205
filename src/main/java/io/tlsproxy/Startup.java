package io.tlsproxy;

import io.tlsproxy.admin.AdminServer;
import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.CertificateConfig;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.PolicyConfig;
import io.tlsproxy.config.ProxyConfig;
import io.tlsproxy.config.RouteConfig;
import io.tlsproxy.config.UpstreamConfig;
import io.tlsproxy.proxy.ListenerSetup;
import io.tlsproxy.proxy.ProxyServer;
import io.tlsproxy.proxy.Route;
import io.tlsproxy.proxy.RouteTable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.tlsproxy.metrics.PrometheusMetrics;
import io.tlsproxy.tls.ClientTls;
import io.tlsproxy.tls.PolicyResolver;
import io.tlsproxy.tls.ServerTls;
import io.tlsproxy.tls.TlsFactory;
import io.tlsproxy.tls.TlsPolicy;
import java.security.Security;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Turns a loaded configuration into listeners ready to run: applies the few TLS settings the JDK only has per
 * process, then builds every listener's and upstream's TLS contexts. All problems are collected at once.
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
    CertificateReloader reloader = new CertificateReloader(vertx, plan, metrics, Clock.systemUTC());
    reloader.start();
    rotateTicketKeys(vertx, plan.listeners(), log);
    return ProxyServer.start(vertx, plan.listeners(), metrics, plan.config().logging().format())
        .compose(server -> {
          for (ListenerSetup s : plan.listeners()) {
            log.info("listener " + s.name() + " listening on " + s.config().listen().host() + ":"
                + server.port(s.name()) + (s.serverTls() != null ? " (TLS)"
                : s.config().passthrough() ? " (TLS passthrough)" : " (plaintext)") + " -> "
                + describe(s.routes(), s.config().passthrough()));
          }
          return AdminServer.start(vertx, plan.config().admin(), metrics, server, plan.listeners(), onQuit)
              .onSuccess(admin -> log.info("admin listening on " + plan.config().admin().listen().host() + ":"
                  + admin.port() + " (/metrics /healthz /readyz /certs" + (plan.config().admin().enableQuit()
                  ? ", POST /quitquitquit from loopback)" : ")")))
              .map(admin -> new Running(server, admin, reloader))
              .recover(t -> server.close().transform(x -> Future.failedFuture(t)));
        });
  }

  /** {@code default [127.0.0.1:8080] (TLS)}, each route in order and the default last. */
  private static String describe(RouteTable routes, boolean passthrough) {
    List<String> out = new ArrayList<>();
    for (Route r : routes.all()) {
      out.add(r.name() + " " + r.upstream().endpoints()
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

  public static Plan prepare(ProxyConfig config, Clock clock) {
    ConfigProblems problems = new ConfigProblems();
    List<String> warnings = new ArrayList<>();
    applyProcessWideTls(config, problems, warnings);
    TlsFactory factory = new TlsFactory(new PolicyResolver(), clock);
    List<ListenerSetup> setups = new ArrayList<>();
    for (int i = 0; i < config.listeners().size(); i++) {
      ListenerConfig l = config.listeners().get(i);
      List<CertificateConfig> routeCertificates = new ArrayList<>();
      l.routes().forEach(r -> routeCertificates.addAll(r.certificates()));
      ServerTls server = l.tls() == null ? null : factory.server(l.tls(), routeCertificates, problems);
      String key = "listeners[" + i + "]";
      if (server != null) {
        warnings.addAll(server.policy().notes());
      }
      if (server != null && server.policy().weakened()) {
        warnings.add(key + ".tls: policy '" + server.policy().profile() + "' allows protocols or suites weaker "
            + "than the intermediate profile: " + server.policy().protocols());
      }
      warnings.addAll(RouteConfig.shadowedNames(l.routes()));
      List<Route> routes = new ArrayList<>();
      for (RouteConfig r : l.routes()) {
        routes.add(new Route(r.name(), r.serverNames(), r.upstream(),
            clientTls(factory, r.upstream(), r.path() + ".upstream", problems, warnings)));
      }
      Route fallback = l.upstream() == null ? null : new Route(RouteConfig.DEFAULT_NAME, List.of(), l.upstream(),
          clientTls(factory, l.upstream(), key + ".upstream", problems, warnings));
      setups.add(new ListenerSetup(l, server, new RouteTable(routes, fallback)));
    }
    warnings.addAll(factory.warnings());
    String fallback = PolicyResolver.defaultEngineFallback();
    if (fallback != null && setups.stream().anyMatch(Startup::usesTls)) {
      warnings.add("engine: " + fallback);
    }
    problems.throwIfAny();
    return new Plan(List.copyOf(setups), List.copyOf(warnings), config, factory);
  }

  private static boolean usesTls(ListenerSetup setup) {
    return setup.serverTls() != null || setup.routes().all().stream().anyMatch(r -> r.clientTls() != null);
  }

  /** The TLS originated towards {@code upstream} (null when plaintext), with its warnings. */
  private static ClientTls clientTls(TlsFactory factory, UpstreamConfig upstream, String key,
                                     ConfigProblems problems, List<String> warnings) {
    if (upstream.tls() == null) {
      return null;
    }
    if (upstream.tls().insecureSkipVerify()) {
      warnings.add(key + ".tls: insecureSkipVerify is true: upstream certificates are NOT verified");
    }
    ClientTls client = factory.client(upstream.tls(), problems);
    if (client != null) {
      warnings.addAll(client.policy().notes());
      if (client.policy().weakened()) {
        warnings.add(key + ".tls: policy '" + client.policy().profile() + "' allows protocols or "
            + "suites weaker than the intermediate profile: " + client.policy().protocols());
      }
    }
    return client;
  }

  /**
   * Endpoint host names are resolved by the upstream pools, which keep addresses for {@code upstream.dnsTtl}
   * and keep the last good ones when a lookup fails. The JDK would add its own caches on top: 30 s for answers
   * ({@code networkaddress.cache.ttl}) and 10 s for failures ({@code networkaddress.cache.negative.ttl}), so that
   * a changed or recovered name could be missed for longer than configured. Both are read once, at the JVM's first
   * lookup: call this before anything resolves a name. A value the operator set is kept: the system
   * properties {@code sun.net.inetaddr.ttl} and {@code sun.net.inetaddr.negative.ttl}, or a
   * {@code networkaddress.cache.ttl} in java.security (where it is commented out by default).
   */
  public static void applyProcessWideDns() {
    if (Security.getProperty("networkaddress.cache.ttl") == null
        && System.getProperty("sun.net.inetaddr.ttl") == null) {
      Security.setProperty("networkaddress.cache.ttl", "0");
    }
    if (System.getProperty("sun.net.inetaddr.negative.ttl") == null) {
      Security.setProperty("networkaddress.cache.negative.ttl", "0");
    }
  }

  /**
   * On Java 17 the JDK engine takes named groups from one system property for the whole process
   * (SSLParameters#setNamedGroups arrived in Java 20), and TLS 1.0/1.1 are disabled in java.security. Both must
   * be set before the first TLS use, so they are decided here, once.
   */
  private static void applyProcessWideTls(ProxyConfig config, ConfigProblems problems, List<String> warnings) {
    List<PolicyConfig> policies = new ArrayList<>();
    for (ListenerConfig l : config.listeners()) {
      if (l.tls() != null) {
        policies.add(l.tls().policy());
      }
      if (l.upstream() != null && l.upstream().tls() != null) {
        policies.add(l.upstream().tls().policy());
      }
      for (RouteConfig r : l.routes()) {
        if (r.upstream() != null && r.upstream().tls() != null) {
          policies.add(r.upstream().tls().policy());
        }
      }
    }
    List<String> groups = null;
    String groupsPath = null;
    boolean legacy = false;
    String defaultEngine = PolicyResolver.defaultEngine();
    for (PolicyConfig p : policies) {
      boolean jdk = TlsPolicy.JDK.equals(PolicyResolver.engineOf(p, defaultEngine));
      legacy |= jdk && p.profile().trim().equalsIgnoreCase("legacy");
      if (!jdk || p.namedGroups().isEmpty()) {
        continue; // the OpenSSL engine takes groups per context
      }
      List<String> these = p.namedGroups().stream().map(PolicyResolver::canonicalGroup).toList();
      if (these.contains(null)) {
        continue; // the resolver reports the unknown name
      }
      if (groups == null) {
        groups = these;
        groupsPath = p.path() + ".namedGroups";
      } else if (!groups.equals(these)) {
        problems.add(p.path() + ".namedGroups", "differs from " + groupsPath + "; the JDK engine on Java 17 uses "
            + "one list of groups for the whole process, so give every jdk-engine namedGroups the same list");
      }
    }
    if (System.getProperty("jdk.tls.namedGroups") == null) {
      System.setProperty("jdk.tls.namedGroups", String.join(",",
          groups != null ? groups : List.of("x25519", "secp256r1", "secp384r1")));
    }
    if (legacy) {
      String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
      if (disabled != null) {
        String kept = Arrays.stream(disabled.split(","))
            .map(String::trim)
            .filter(s -> !s.equals("TLSv1") && !s.equals("TLSv1.1"))
            .collect(Collectors.joining(", "));
        Security.setProperty("jdk.tls.disabledAlgorithms", kept);
      }
      warnings.add("policy legacy is in use: TLS 1.0 and 1.1 are re-enabled in this JVM for the sections that "
          + "name it");
    }
  }
}
