package io.tlsproxy.config;

import java.time.Duration;

/**
 * The start-up warm-up: connection set-ups driven through each listener's own code paths, over loopback and
 * against throwaway endpoints, while {@code /readyz} still answers 503, so that the first clients after a start
 * do not pay for a cold JIT.
 *
 * @param enabled     whether it runs; when false, the proxy is ready as soon as it listens
 * @param connections how many set-ups (connect, handshakes, one small request and reply, close) it drives at most
 * @param maxDuration it stops after this long even when fewer set-ups were done; readiness opens then
 */
public record WarmupConfig(boolean enabled, int connections, Duration maxDuration) {
  public static final int DEFAULT_CONNECTIONS = 1500;
  public static final Duration DEFAULT_MAX_DURATION = Duration.ofMillis(1500);
  public static final WarmupConfig DEFAULT = new WarmupConfig(true, DEFAULT_CONNECTIONS, DEFAULT_MAX_DURATION);
  public static final WarmupConfig OFF = new WarmupConfig(false, DEFAULT_CONNECTIONS, DEFAULT_MAX_DURATION);
}
