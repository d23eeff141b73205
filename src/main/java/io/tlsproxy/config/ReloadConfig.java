package io.tlsproxy.config;

import java.time.Duration;

/**
 * How certificate material is kept fresh.
 *
 * @param checkInterval how often the certificate, key, keystore and CA files are checked for new content;
 *                      zero means only on SIGHUP
 * @param warnBefore    a certificate expiring sooner than this is logged as a warning at start, after each
 *                      reload and daily
 */
public record ReloadConfig(Duration checkInterval, Duration warnBefore) {
  public static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofSeconds(5);
  public static final Duration DEFAULT_WARN_BEFORE = Duration.ofDays(14);
  public static final ReloadConfig DEFAULT = new ReloadConfig(DEFAULT_CHECK_INTERVAL, DEFAULT_WARN_BEFORE);
}
