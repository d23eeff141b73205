package io.tlsproxy.config;

import java.time.Duration;

/**
 * One listening port and where its bytes go.
 *
 * @param tls                   present when the listener terminates TLS; null for a plaintext listener
 * @param idleTimeout           close a connection after this long without a byte either way; zero means never
 * @param maxConnectionLifetime close a connection this long after it opened (gracefully: half-close first), so
 *                              that long-lived clients reconnect onto rotated certificates; zero means never
 * @param proxyProtocol         whether connections start with a PROXY protocol header from a load balancer in
 *                              front; default {@link ProxyProtocolMode#OFF}
 */
public record ListenerConfig(String name, HostPort listen, ServerTlsConfig tls, UpstreamConfig upstream,
                             Duration idleTimeout, Duration maxConnectionLifetime, ProxyProtocolMode proxyProtocol) {
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
