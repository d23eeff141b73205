package io.tlsproxy.relay;

import java.util.EnumSet;
import java.util.Set;

/**
 * Where one connection is in its life. Every change goes through {@link ProxyConnection}, which refuses a move this
 * table does not allow:
 * <pre>
 *   ACCEPTED -+-&gt; PROXY_HEADER -+-&gt; STARTTLS --+-&gt; HANDSHAKING --&gt; DIALLING --&gt; RELAYING -+-&gt; CLIENT_FINISHED ---+
 *             |                 +---------------+                    ^                    +-&gt; UPSTREAM_FINISHED -+
 *             +-&gt; STARTTLS, HANDSHAKING (as PROXY_HEADER)             |                    +-&gt; ENDING_LIFETIME    |
 *             +-&gt; DIALLING (plaintext listener, also from PROXY_HEADER)                                         v
 *   any state but CLOSED --------------------------------------------------------------------&gt; CLOSING --&gt; CLOSED
 * </pre>
 * A state that finishes one direction can also reach {@code ENDING_LIFETIME}. {@code STARTTLS} is the plaintext
 * dialogue of a listener with {@code tls.startTls}, before its handshake. {@code CLOSING} is entered exactly once,
 * with the reason recorded; {@code CLOSED} exactly once, when both channels are closed, and only then are the
 * connection's metrics and log line written.
 */
public enum ConnectionState {
  /** Accepted; nothing read yet. */
  ACCEPTED,
  /** Waiting for the PROXY protocol header of a load balancer. */
  PROXY_HEADER,
  /**
   * A listener with {@code tls.startTls}: tlsproxy plays the server of the plaintext protocol until the client
   * asks for TLS, bounded by the handshake timeout. Nothing is dialled or forwarded yet.
   */
  STARTTLS,
  /** The client's TLS handshake (terminate) or ClientHello (passthrough) is under way, bounded by its timeout. */
  HANDSHAKING,
  /** The route is known; its upstream endpoints are being tried. */
  DIALLING,
  /** Bytes flow both ways. */
  RELAYING,
  /** The client finished sending and that end was passed on to the upstream; replies still flow. */
  CLIENT_FINISHED,
  /** The upstream finished sending and that end was passed on to the client; requests still flow. */
  UPSTREAM_FINISHED,
  /** The connection lived as long as it may: both peers were told, a short grace runs. */
  ENDING_LIFETIME,
  /** Closing for a recorded reason: what is queued is flushed, then both channels close. */
  CLOSING,
  /** Both channels closed; counted and logged. */
  CLOSED;

  private Set<ConnectionState> next;

  static {
    ACCEPTED.next = EnumSet.of(PROXY_HEADER, STARTTLS, HANDSHAKING, DIALLING, CLOSING);
    PROXY_HEADER.next = EnumSet.of(STARTTLS, HANDSHAKING, DIALLING, CLOSING);
    STARTTLS.next = EnumSet.of(HANDSHAKING, CLOSING);
    HANDSHAKING.next = EnumSet.of(DIALLING, CLOSING);
    DIALLING.next = EnumSet.of(RELAYING, CLOSING);
    RELAYING.next = EnumSet.of(CLIENT_FINISHED, UPSTREAM_FINISHED, ENDING_LIFETIME, CLOSING);
    CLIENT_FINISHED.next = EnumSet.of(ENDING_LIFETIME, CLOSING);
    UPSTREAM_FINISHED.next = EnumSet.of(ENDING_LIFETIME, CLOSING);
    ENDING_LIFETIME.next = EnumSet.of(CLOSING);
    CLOSING.next = EnumSet.of(CLOSED);
    CLOSED.next = EnumSet.noneOf(ConnectionState.class);
  }

  /** Whether a connection in this state may move to {@code to}. */
  public boolean canMoveTo(ConnectionState to) {
    return next.contains(to);
  }

  /** Whether bytes are relayed in at least one direction: the upstream is connected and ready. */
  public boolean relaying() {
    return this == RELAYING || this == CLIENT_FINISHED || this == UPSTREAM_FINISHED || this == ENDING_LIFETIME;
  }

  /** Whether the connection is closing or closed: nothing new starts. */
  public boolean closing() {
    return this == CLOSING || this == CLOSED;
  }
}
