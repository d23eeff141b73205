package io.tlsproxy.config;

import java.time.Duration;
import java.util.List;

/**
 * One listening port (or Unix socket) and where its bytes go.
 *
 * @param listen                a TCP address, or a Unix socket ({@code unix:/path} or {@code unix:@name})
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
 * @param socketMode            the permission bits of the socket file of a {@code unix:/path} listener (who may
 *                              connect); {@link #DEFAULT_SOCKET_MODE} unless set, unused for other addresses
 */
public record ListenerConfig(String name, Address listen, ServerTlsConfig tls, UpstreamConfig upstream,
                             Duration idleTimeout, Duration maxConnectionLifetime, ProxyProtocolMode proxyProtocol,
                             boolean passthrough, List<RouteConfig> routes, LimitsConfig limits,
                             int socketMode) {
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
  /** rw for the owner and the group (0660): the app that shares the group connects, nobody else. */
  public static final int DEFAULT_SOCKET_MODE = 0660;
  /** How long a plaintext listener waits for a PROXY header; TLS listeners wait their handshake timeout. */
  public static final Duration DEFAULT_PROXY_PROTOCOL_TIMEOUT = Duration.ofSeconds(5);

  /**
   * The warning for a socket file others may connect to (any "other" bit in {@code socketMode}), or null: anyone
   * on the host then reaches the proxy, as with a TCP port. {@code path} is the listener's key path.
   */
  public String socketModeWarning(String path) {
    if (listen instanceof UnixAddress u && !u.abstractName() && (socketMode & 07) != 0) {
      return path + ".socketMode: " + octal(socketMode) + " lets every local user connect to " + u
          + "; 0660 keeps it to the owner and group";
    }
    return null;
  }

  /** A mode as it is written in the configuration, e.g. {@code 0660}. */
  public static String octal(int mode) {
    return String.format("0%03o", mode);
  }

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
