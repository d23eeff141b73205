package io.tlsproxy.config;

import java.time.Duration;

/** How long open connections may finish after SIGTERM before they are closed. */
public record ShutdownConfig(Duration drainTimeout) {
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
}
