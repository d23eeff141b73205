package io.tlsproxy.config;

import java.time.Duration;

/**
 * One listening port and where its bytes go.
 *
 * @param tls                   present when the listener terminates TLS; null for a plaintext listener
 * @param idleTimeout           close a connection after this long without a byte either way; zero means never
 * @param maxConnectionLifetime close a connection this long after it opened (gracefully: half-close first), so
 *                              that long-lived clients reconnect onto rotated certificates; zero means never
 * @param limits                connection and handshake-rate limits; {@link LimitsConfig#NONE} when none is set
 */
public record ListenerConfig(String name, HostPort listen, ServerTlsConfig tls, UpstreamConfig upstream,
                             Duration idleTimeout, Duration maxConnectionLifetime, LimitsConfig limits) {
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
}
