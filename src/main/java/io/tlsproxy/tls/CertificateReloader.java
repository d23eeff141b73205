package io.tlsproxy.tls;

import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.ReloadConfig;
import io.tlsproxy.material.CertificateInUse;
import io.tlsproxy.metrics.ProxyMetrics;
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
 * and on SIGHUP, builds the new material with the same {@link ListenerTls#build} that validated it at start, and
 * swaps it in only if all of it is good; otherwise the material in use stays and the problems are logged. Open
 * connections keep what they started with. Warnings a reload finds are logged once, not kept. It also warns about
 * certificates close to expiry.
 */
public final class CertificateReloader {

  private static final Logger LOG = Logger.getLogger("tlsproxy");
  private static final Duration DAILY = Duration.ofDays(1);

  private final Vertx vertx;
  private final TlsFactory factory;
  private final List<ListenerTls> listeners;
  private final ProxyMetrics metrics;
  private final Clock clock;
  private final Duration checkInterval;
  private final Duration warnBefore;
  /** Content fingerprints per listener, as last loaded or last tried. Touched only under this object's lock. */
  private final Map<String, Map<Path, String>> seen = new LinkedHashMap<>();

  public CertificateReloader(Vertx vertx, List<ListenerTls> listeners, TlsFactory factory, ProxyMetrics metrics,
                             ReloadConfig config, Clock clock) {
    this.vertx = vertx;
    this.factory = factory;
    this.listeners = List.copyOf(listeners);
    this.metrics = metrics;
    this.clock = clock;
    this.checkInterval = config.checkInterval();
    this.warnBefore = config.warnBefore();
    for (ListenerTls l : this.listeners) {
      seen.put(l.listener(), fingerprint(l.files()));
    }
  }

  /** Publishes expiry, warns about certificates close to it, and starts the periodic checks. */
  public void start() {
    listeners.forEach(l -> metrics.certificates(l.listener(), l.certificatesInUse()));
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
  public Future<Integer> check(boolean force) {
    return vertx.executeBlocking(() -> {
      // The timer and SIGHUP may both ask at once: one check at a time.
      synchronized (this) {
        int replaced = 0;
        for (ListenerTls l : listeners) {
          if (reloadIfChanged(l, force)) {
            replaced++;
          }
        }
        return replaced;
      }
    });
  }

  private boolean reloadIfChanged(ListenerTls current, boolean force) {
    String name = current.listener();
    if (current.files().isEmpty()) {
      return false;
    }
    Map<Path, String> now = fingerprint(current.files());
    if (!force && now.equals(seen.get(name))) {
      return false;
    }
    // Remember what was tried, so that broken content is reported once, not at every check.
    seen.put(name, now);
    ConfigProblems problems = new ConfigProblems();
    ListenerTls fresh = null;
    try {
      fresh = current.rebuild(factory, problems);
    } catch (RuntimeException e) {
      // Material the loaders did not foresee must not stop the checks; it counts as a failed reload.
      problems.add("listeners." + name, "unexpected error loading certificate material: " + e);
    }
    if (fresh == null || !problems.isEmpty()) {
      metrics.reloaded(name, false);
      problems.list().forEach(p -> LOG.warning("listener " + name + ": reload failed, the certificates in "
          + "use stay: " + p));
      return false;
    }
    String before = serials(current);
    current.replaceWith(fresh);
    metrics.reloaded(name, true);
    metrics.certificates(name, current.certificatesInUse());
    LOG.info("listener " + name + ": certificates reloaded, serials " + before + " -> " + serials(current));
    fresh.warnings().forEach(w -> LOG.warning("listener " + name + ": " + w));
    warnAboutExpiry(current);
    return true;
  }

  private void warnAboutExpiry() {
    listeners.forEach(this::warnAboutExpiry);
  }

  private void warnAboutExpiry(ListenerTls l) {
    Instant now = clock.instant();
    for (CertificateInUse c : l.certificatesInUse()) {
      X509Certificate cert = c.certificate();
      Instant notAfter = cert.getNotAfter().toInstant();
      if (notAfter.isBefore(now.plus(warnBefore))) {
        LOG.warning("listener " + l.listener() + ": " + c.role() + " certificate " + cert.getSubjectX500Principal()
            + " (serial " + cert.getSerialNumber().toString(16) + ") expires " + notAfter + ", in "
            + Duration.between(now, notAfter).toHours() + " h; renew it");
      }
    }
  }

  /** Serial numbers by role, e.g. {@code server=[1a2b] ca=[3c4d]}, for the log line of a reload. */
  private static String serials(ListenerTls l) {
    Map<String, List<String>> byRole = new LinkedHashMap<>();
    for (CertificateInUse c : l.certificatesInUse()) {
      byRole.computeIfAbsent(c.role(), r -> new ArrayList<>()).add(c.certificate().getSerialNumber().toString(16));
    }
    StringBuilder b = new StringBuilder();
    byRole.forEach((role, serials) -> b.append(b.length() == 0 ? "" : " ").append(role).append('=').append(serials));
    return b.toString();
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
