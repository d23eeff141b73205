package io.tlsproxy;

import io.tlsproxy.config.CertificateConfig;
import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.RouteConfig;
import io.tlsproxy.metrics.ProxyMetrics;
import io.tlsproxy.proxy.ListenerSetup;
import io.tlsproxy.proxy.Route;
import io.tlsproxy.tls.CertificateInUse;
import io.tlsproxy.tls.ClientTls;
import io.tlsproxy.tls.ServerTls;
import io.tlsproxy.tls.TlsFactory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Keeps every listener's certificate material fresh. It notices new content in any file a listener reads (also
 * when a Kubernetes Secret volume swaps its {@code ..data} symlink, because it reads through links) on a timer
 * and on SIGHUP, builds the new material with the same code that validated it at start, and swaps it in only if
 * all of it is good; otherwise the material in use stays and the problems are logged. Open connections keep
 * what they started with. It also warns about certificates close to expiry.
 */
final class CertificateReloader {

  private static final Logger LOG = Logger.getLogger("tlsproxy");
  private static final Duration DAILY = Duration.ofDays(1);

  private final Vertx vertx;
  private final TlsFactory factory;
  private final List<ListenerSetup> listeners;
  private final ProxyMetrics metrics;
  private final Clock clock;
  private final Duration checkInterval;
  private final Duration warnBefore;
  /** Content fingerprints per listener, as last loaded or last tried. Touched only by the ordered worker. */
  private final Map<String, Map<Path, String>> seen = new LinkedHashMap<>();

  CertificateReloader(Vertx vertx, Startup.Plan plan, ProxyMetrics metrics, Clock clock) {
    this.vertx = vertx;
    this.factory = plan.factory();
    this.listeners = plan.listeners();
    this.metrics = metrics;
    this.clock = clock;
    this.checkInterval = plan.config().reload().checkInterval();
    this.warnBefore = plan.config().reload().warnBefore();
    for (ListenerSetup s : listeners) {
      seen.put(s.name(), fingerprint(files(s.config())));
    }
  }

  /** Publishes expiry, warns about certificates close to it, and starts the periodic checks. */
  void start() {
    listeners.forEach(s -> metrics.certificates(s.name(), s.certificatesInUse()));
    warnAboutExpiry();
    vertx.setPeriodic(DAILY.toMillis(), id -> warnAboutExpiry());
    if (!checkInterval.isZero()) {
      vertx.setPeriodic(checkInterval.toMillis(), id -> check(false));
    }
  }

  /**
   * Checks every listener now; with {@code force} (SIGHUP) it reloads even when no file content changed.
   * Completes with the number of listeners whose material was replaced.
   */
  Future<Integer> check(boolean force) {
    return vertx.executeBlocking(() -> {
      // The timer and SIGHUP may both ask at once: one check at a time.
      synchronized (this) {
        int replaced = 0;
        for (ListenerSetup s : listeners) {
          if (reloadIfChanged(s, force)) {
            replaced++;
          }
        }
        return replaced;
      }
    });
  }

  private boolean reloadIfChanged(ListenerSetup s, boolean force) {
    ListenerConfig cfg = s.config();
    List<Path> files = files(cfg);
    if (files.isEmpty()) {
      return false;
    }
    Map<Path, String> now = fingerprint(files);
    if (!force && now.equals(seen.get(s.name()))) {
      return false;
    }
    // Remember what was tried, so that broken content is reported once, not at every check.
    seen.put(s.name(), now);
    ConfigProblems problems = new ConfigProblems();
    ServerTls server = null;
    // Each route's new client side, in the order of routes.all(); null where a route's upstream is plaintext.
    List<ClientTls> clients = new ArrayList<>();
    try {
      List<CertificateConfig> routeCertificates = new ArrayList<>();
      cfg.routes().forEach(r -> routeCertificates.addAll(r.certificates()));
      server = cfg.tls() == null ? null : factory.server(cfg.tls(), routeCertificates, problems);
      for (Route r : s.routes().all()) {
        clients.add(r.upstream().tls() == null ? null : factory.client(r.upstream().tls(), problems));
      }
    } catch (RuntimeException e) {
      // Material the loaders did not foresee must not stop the checks; it counts as a failed reload.
      problems.add("listeners." + s.name(), "unexpected error loading certificate material: " + e);
    }
    if (!problems.isEmpty()) {
      metrics.reloaded(s.name(), false);
      problems.list().forEach(p -> LOG.warning("listener " + s.name() + ": reload failed, the certificates in "
          + "use stay: " + p));
      return false;
    }
    String before = serials(s);
    if (server != null) {
      s.serverTls().replaceWith(server);
    }
    List<Route> routes = s.routes().all();
    for (int i = 0; i < routes.size(); i++) {
      if (clients.get(i) != null) {
        routes.get(i).clientTls().replaceWith(clients.get(i));
      }
    }
    metrics.reloaded(s.name(), true);
    metrics.certificates(s.name(), s.certificatesInUse());
    LOG.info("listener " + s.name() + ": certificates reloaded, serials " + before + " -> " + serials(s));
    warnAboutExpiry(s);
    return true;
  }

  private void warnAboutExpiry() {
    listeners.forEach(this::warnAboutExpiry);
  }

  private void warnAboutExpiry(ListenerSetup s) {
    Instant now = clock.instant();
    for (CertificateInUse c : s.certificatesInUse()) {
      X509Certificate cert = c.certificate();
      Instant notAfter = cert.getNotAfter().toInstant();
      if (notAfter.isBefore(now.plus(warnBefore))) {
        LOG.warning("listener " + s.name() + ": " + c.role() + " certificate " + cert.getSubjectX500Principal()
            + " (serial " + cert.getSerialNumber().toString(16) + ") expires " + notAfter + ", in "
            + Duration.between(now, notAfter).toHours() + " h; renew it");
      }
    }
  }

  /** Serial numbers by role, e.g. {@code server=[1a2b] ca=[3c4d]}, for the log line of a reload. */
  private static String serials(ListenerSetup s) {
    Map<String, List<String>> byRole = new LinkedHashMap<>();
    for (CertificateInUse c : s.certificatesInUse()) {
      byRole.computeIfAbsent(c.role(), r -> new ArrayList<>()).add(c.certificate().getSerialNumber().toString(16));
    }
    StringBuilder b = new StringBuilder();
    byRole.forEach((role, serials) -> b.append(b.length() == 0 ? "" : " ").append(role).append('=').append(serials));
    return b.toString();
  }

  private static List<Path> files(ListenerConfig cfg) {
    List<Path> out = new ArrayList<>();
    if (cfg.tls() != null) {
      out.addAll(cfg.tls().files());
    }
    if (cfg.upstream() != null && cfg.upstream().tls() != null) {
      out.addAll(cfg.upstream().tls().files());
    }
    for (RouteConfig r : cfg.routes()) {
      r.certificates().forEach(c -> out.addAll(c.files()));
      if (r.upstream() != null && r.upstream().tls() != null) {
        out.addAll(r.upstream().tls().files());
      }
    }
    return out;
  }

  /** SHA-256 of each file's content, read through symbolic links; "missing" or the error otherwise. */
  private static Map<Path, String> fingerprint(List<Path> files) {
    Map<Path, String> out = new LinkedHashMap<>();
    for (Path f : files) {
      try {
        out.put(f, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
      } catch (NoSuchFileException e) {
        out.put(f, "missing");
      } catch (IOException e) {
        out.put(f, "unreadable: " + e.getMessage());
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }
}
