package io.tlsproxy.config;

import java.time.Duration;
import java.util.List;

/**
 * Where a listener forwards its bytes.
 *
 * @param endpoints     TCP addresses or Unix sockets, tried in order (failover), rotated (round-robin) or fewest
 *                      open connections first (least-connections); an endpoint that fails to connect is skipped for
 *                      the next one
 * @param tls           present when TLS is originated towards the upstream; null for plaintext
 * @param proxyProtocol the PROXY protocol header written to the upstream before any other byte, carrying the
 *                      original client's address; default {@link ProxyProtocolVersion#OFF}
 * @param dnsTtl        how long the addresses of an endpoint's host name are used before it is resolved again;
 *                      zero resolves on every connection (Unix sockets are never resolved)
 * @param healthCheck   active health checks of every endpoint; null when off (the default)
 * @param via           the egress proxy every connection to the endpoints (and every health check) goes through;
 *                      null to dial them directly (the default)
 * @param proxyProtocolTlvs what a version 2 header adds about the client's certificate, when it presented one;
 *                      empty (the default) sends none of it, so no certificate leaves the proxy by surprise
 */
public record UpstreamConfig(List<Address> endpoints, Balance balance, Duration connectTimeout,
                             ClientTlsConfig tls, ProxyProtocolVersion proxyProtocol, Duration dnsTtl,
                             HealthCheckConfig healthCheck, ViaConfig via, List<ProxyProtocolTlv> proxyProtocolTlvs) {
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_DNS_TTL = Duration.ofSeconds(30);

  /** An upstream dialled directly, without an egress proxy. */
  public UpstreamConfig(List<Address> endpoints, Balance balance, Duration connectTimeout, ClientTlsConfig tls,
                        ProxyProtocolVersion proxyProtocol, Duration dnsTtl, HealthCheckConfig healthCheck) {
    this(endpoints, balance, connectTimeout, tls, proxyProtocol, dnsTtl, healthCheck, null, List.of());
  }

  /** How the first endpoint to try is chosen for each connection. */
  public enum Balance { FAILOVER, ROUND_ROBIN, LEAST_CONNECTIONS }

  /** Which PROXY protocol header, if any, is sent to the upstream: V2 also carries the client's TLS facts. */
  public enum ProxyProtocolVersion { OFF, V1, V2 }

  /**
   * Facts about the client's certificate a version 2 header may carry, each as TLVs of the custom range: the DER
   * certificate, its URI SANs (SPIFFE IDs), its DNS SANs.
   */
  public enum ProxyProtocolTlv { CLIENT_CERT, CLIENT_URIS, CLIENT_DNS }

  public UpstreamConfig {
    proxyProtocolTlvs = proxyProtocolTlvs == null ? List.of() : List.copyOf(proxyProtocolTlvs);
  }
}
