package io.tlsproxy.config;

import java.time.Duration;

/**
 * What happens after SIGTERM (or {@code POST /quitquitquit}): open connections may finish for up to
 * {@code drainTimeout}. New connections are refused at once, unless {@code acceptDuringDrain}: then they are
 * still accepted for the whole drain period while readiness reports 503, for load balancers that take a while
 * to stop sending (a Kubernetes Service's endpoints are updated only after the pod is told to stop).
 */
public record ShutdownConfig(Duration drainTimeout, boolean acceptDuringDrain) {
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
  public static final ShutdownConfig DEFAULT = new ShutdownConfig(DEFAULT_DRAIN_TIMEOUT, false);
}
