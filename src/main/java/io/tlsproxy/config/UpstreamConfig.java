package io.tlsproxy.config;

import java.time.Duration;
import java.util.List;

/**
 * Where a listener forwards its bytes.
 *
 * @param endpoints tried in order (failover) or rotated (round-robin); an endpoint that fails to connect is
 *                  skipped for the next one
 * @param tls       present when TLS is originated towards the upstream; null for plaintext
 */
public record UpstreamConfig(List<HostPort> endpoints, Balance balance, Duration connectTimeout,
                             ClientTlsConfig tls) {
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

  /** How the first endpoint to try is chosen for each connection. */
  public enum Balance { FAILOVER, ROUND_ROBIN }
}
