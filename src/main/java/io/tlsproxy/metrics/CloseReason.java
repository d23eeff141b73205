package io.tlsproxy.metrics;

import java.util.Locale;

/**
 * Why a connection closed: the {@code close=} field of its access log line. The first reason recorded wins (a
 * connection whose handshake failed stays {@code handshake_failed} when its peer then closes). Four reasons carry a
 * detail after a colon: the handshake failure reason, the ClientHello refusal, the PROXY protocol error and the last
 * upstream attempt's failure. docs/metrics.md lists every one; {@code ReasonsDocumentedTest} holds the two together.
 */
public enum CloseReason {
  /** Both sides finished sending and every byte was passed on. */
  COMPLETED,
  /** The client closed (FIN after the upstream's, or a close while data was still due). */
  CLIENT_CLOSED,
  UPSTREAM_CLOSED,
  /**
   * The client ended TCP (FIN) without a TLS close_notify after its handshake: what it sent may have been cut short
   * by someone on the path (RFC 8446 section 6.1). The upstream's reply still flows back.
   */
  CLIENT_TRUNCATED,
  /** The upstream ended TCP without a TLS close_notify after its handshake; what it sent is still passed on. */
  UPSTREAM_TRUNCATED,
  /** The client's socket reported an I/O error, typically a reset. */
  CLIENT_RESET,
  UPSTREAM_RESET,
  /** Any other error on the client's channel (logged at debug level). */
  CLIENT_ERROR,
  UPSTREAM_ERROR,
  IDLE_TIMEOUT,
  MAX_CONNECTION_LIFETIME,
  /** Still open when a drain's time ran out. */
  DRAIN_TIMEOUT,
  /** The client's TLS handshake failed; detail: the handshake failure reason. */
  HANDSHAKE_FAILED,
  /** A passthrough client's ClientHello was refused before anything was forwarded; detail: why. */
  REJECTED,
  /** The PROXY protocol header the listener expects was missing or bad; detail: the error. */
  PROXY_PROTOCOL,
  /** No endpoint of the route's upstream could be reached; detail: the last attempt's failure. */
  UPSTREAM_UNAVAILABLE,
  /** No route took the connection (cannot happen after a successful handshake; kept as a guard). */
  NO_ROUTE;

  private final String label = name().toLowerCase(Locale.ROOT);

  /** As logged: {@code idle_timeout}. */
  public String label() {
    return label;
  }

  /** As logged with a detail: {@code handshake_failed:unknown_ca}. */
  public String label(String detail) {
    return detail == null ? label : label + ":" + detail;
  }
}
