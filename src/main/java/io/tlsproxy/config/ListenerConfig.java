package io.tlsproxy.config;

import java.time.Duration;
import java.util.List;

/**
 * One listening port and where its bytes go.
 *
 * @param tls                   present when the listener terminates TLS; null for a plaintext listener
 * @param idleTimeout           close a connection after this long without a byte either way; zero means never
 * @param maxConnectionLifetime close a connection this long after it opened (gracefully: half-close first), so
 *                              that long-lived clients reconnect onto rotated certificates; zero means never
 * @param upstream              the default route: where connections go that no route matches (or that sent no
 *                              SNI); null only when {@code routes} are given, and then such connections are refused
 * @param proxyProtocol         whether connections start with a PROXY protocol header from a load balancer in
 *                              front; default {@link ProxyProtocolMode#OFF}
 * @param passthrough           route on the SNI name of the client's ClientHello and forward its TLS untouched;
 *                              {@code tls} is then null
 * @param routes                matched on the client's SNI name in order, first match wins; empty for none
 * @param limits                connection and handshake-rate limits; {@link LimitsConfig#NONE} when none is set
 */
public record ListenerConfig(String name, HostPort listen, ServerTlsConfig tls, UpstreamConfig upstream,
                             Duration idleTimeout, Duration maxConnectionLifetime, ProxyProtocolMode proxyProtocol,
                             boolean passthrough, List<RouteConfig> routes, LimitsConfig limits) {
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
  /** How long a plaintext listener waits for a PROXY header; TLS listeners wait their handshake timeout. */
  public static final Duration DEFAULT_PROXY_PROTOCOL_TIMEOUT = Duration.ofSeconds(5);

  /** Whether a PROXY header (version 1 or 2) is read before anything else on a connection. */
  public enum ProxyProtocolMode {
    /** No header is expected; the bytes are the client's. */
    OFF,
    /** Every connection must start with a header; one without, or with a malformed one, is closed. */
    ACCEPT,
    /** A header is read if the first bytes are one; otherwise the bytes are passed on untouched. */
    OPTIONAL
  }
}
