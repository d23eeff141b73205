package io.tlsproxy.metrics;

/** The meters of one listener. {@code upstream} tells which side of the proxy a handshake was on. */
public interface ListenerMetrics {

  void handshakeSucceeded(boolean upstream, String protocol, String cipher, boolean resumed, long nanos);

  /** {@code reason} is one of the fixed reasons of {@code io.tlsproxy.tls.HandshakeFailure}. */
  void handshakeFailed(boolean upstream, String reason, long nanos);

  void connectionOpened();

  /** A connection closed after {@code nanos}, for {@code reason} (null: none recorded, which is a bug). */
  void connectionClosed(long nanos, CloseReason reason);

  void bytesToUpstream(long n);

  void bytesToDownstream(long n);

  /** {@code reason}: refused, timeout, dns or tls. */
  void upstreamConnectFailed(String endpoint, String reason);

  /** A connection closed because its PROXY protocol header was missing, malformed or late; a fixed reason. */
  void proxyProtocolFailed(String reason);

  /** Whether the active health checks find {@code endpoint} (as configured) healthy now. */
  void upstreamEndpointUp(String endpoint, boolean up);

  /** Resolving the host name of {@code endpoint} failed; its last good addresses stay in use. */
  void upstreamResolveFailed(String endpoint);

  /** A connection was given to {@code route}: a route's name, or {@code default} for the listener's upstream. */
  void routed(String route);

  /**
   * A connection closed before anything was forwarded, or an accept that failed: a limit, or in passthrough mode
   * what was wrong with the ClientHello (or its unknown server name).
   */
  void connectionRejected(RejectReason reason);

  ListenerMetrics NONE = new ListenerMetrics() {
    @Override
    public void handshakeSucceeded(boolean upstream, String protocol, String cipher, boolean resumed,
                                   long nanos) {
    }

    @Override
    public void handshakeFailed(boolean upstream, String reason, long nanos) {
    }

    @Override
    public void connectionOpened() {
    }

    @Override
    public void connectionClosed(long nanos, CloseReason reason) {
    }

    @Override
    public void bytesToUpstream(long n) {
    }

    @Override
    public void bytesToDownstream(long n) {
    }

    @Override
    public void upstreamConnectFailed(String endpoint, String reason) {
    }

    @Override
    public void proxyProtocolFailed(String reason) {
    }

    @Override
    public void upstreamEndpointUp(String endpoint, boolean up) {
    }

    @Override
    public void upstreamResolveFailed(String endpoint) {
    }

    @Override
    public void routed(String route) {
    }

    @Override
    public void connectionRejected(RejectReason reason) {
    }
  };
}
