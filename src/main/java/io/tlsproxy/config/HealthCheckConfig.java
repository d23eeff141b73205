package io.tlsproxy.config;

import java.time.Duration;

/**
 * Active health checks of an upstream's endpoints: a TCP connect, or a full TLS handshake when the upstream is
 * TLS, every {@code interval}.
 *
 * @param timeout            a check not done by then has failed; shorter than {@code interval}
 * @param unhealthyThreshold consecutive failures that take a healthy endpoint out
 * @param healthyThreshold   consecutive successes that bring an unhealthy endpoint back
 * @param requiredForReady   when true, {@code /readyz} answers 503 while none of the endpoints is healthy
 */
public record HealthCheckConfig(Duration interval, Duration timeout, int unhealthyThreshold, int healthyThreshold,
                                boolean requiredForReady) {
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
  public static final int DEFAULT_UNHEALTHY_THRESHOLD = 3;
  public static final int DEFAULT_HEALTHY_THRESHOLD = 2;
}
