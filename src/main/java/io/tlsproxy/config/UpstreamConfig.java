package io.tlsproxy.config;

import java.time.Duration;
import java.util.List;

/**
 * Where a listener forwards its bytes.
 *
 * @param endpoints tried in order (failover) or rotated (round-robin); an endpoint that fails to connect is
 *                  skipped for the next one
 * @param tls       present when TLS is originated towards the upstream; null for plaintext
 * @param proxyProtocol the PROXY protocol header written to the upstream before any other byte, carrying the
 *                  original client's address; default {@link ProxyProtocolVersion#OFF}
 */
public record UpstreamConfig(List<HostPort> endpoints, Balance balance, Duration connectTimeout,
                             ClientTlsConfig tls, ProxyProtocolVersion proxyProtocol) {
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

  /** How the first endpoint to try is chosen for each connection. */
  public enum Balance { FAILOVER, ROUND_ROBIN }

  /** Which PROXY protocol header, if any, is sent to the upstream: V2 also carries the client's TLS facts. */
  public enum ProxyProtocolVersion { OFF, V1, V2 }
}
