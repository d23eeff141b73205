package io.tlsproxy.config;

import java.time.Duration;
import java.util.List;

/**
 * Where a listener forwards its bytes.
 *
 * @param endpoints   tried in order (failover), rotated (round-robin) or fewest open connections first
 *                    (least-connections); an endpoint that fails to connect is skipped for the next one
 * @param tls         present when TLS is originated towards the upstream; null for plaintext
 * @param dnsTtl      how long the addresses of an endpoint's host name are used before it is resolved again;
 *                    zero resolves on every connection
 * @param healthCheck active health checks of every endpoint; null when off (the default)
 */
public record UpstreamConfig(List<HostPort> endpoints, Balance balance, Duration connectTimeout,
                             ClientTlsConfig tls, Duration dnsTtl, HealthCheckConfig healthCheck) {
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_DNS_TTL = Duration.ofSeconds(30);

  /** How the first endpoint to try is chosen for each connection. */
  public enum Balance { FAILOVER, ROUND_ROBIN, LEAST_CONNECTIONS }
}
