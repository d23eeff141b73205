package io.tlsproxy.metrics;

import java.util.Locale;

/**
 * Why a connection was closed unserved: the {@code reason} label of {@code tlsproxy_connections_rejected_total}.
 * Label values are public API; docs/metrics.md lists every one, and {@code ReasonsDocumentedTest} holds the two
 * together.
 */
public enum RejectReason {
  /** {@code limits.maxConnections} was reached and {@code overLimit} is {@code refuse}. */
  MAX_CONNECTIONS,
  /** {@code limits.maxHandshakesPerSecond} was reached and {@code overLimit} is {@code refuse}. */
  MAX_HANDSHAKE_RATE,
  /** Accepting failed, e.g. out of file descriptors. */
  ACCEPT_ERROR,
  /** Passthrough: the first bytes are not a TLS handshake record. */
  NOT_TLS,
  /** Passthrough: an SSL 2.0 ClientHello. */
  SSLV2_CLIENT_HELLO,
  /** Passthrough: a ClientHello that does not parse. */
  MALFORMED_CLIENT_HELLO,
  /** Passthrough: a ClientHello over 16 KiB, or spread over more than 32 KiB of records. */
  CLIENT_HELLO_TOO_LARGE,
  /** Passthrough: the SNI name (or its absence) matched no route and there is no default. */
  UNKNOWN_SERVER_NAME,
  /** Passthrough: no complete ClientHello within the handshake timeout. */
  TIMEOUT,
  /** Passthrough: the client closed or reset before its ClientHello was complete. */
  PEER_CLOSED;

  private final String label = name().toLowerCase(Locale.ROOT);

  /** The label value: {@code max_connections}. */
  public String label() {
    return label;
  }
}
