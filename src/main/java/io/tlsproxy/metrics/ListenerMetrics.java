package io.tlsproxy.metrics;

/** The meters of one listener. {@code upstream} tells which side of the proxy a handshake was on. */
public interface ListenerMetrics {

  void handshakeSucceeded(boolean upstream, String protocol, String cipher, boolean resumed, long nanos);

  /** {@code reason} is one of the fixed reasons of {@code io.tlsproxy.tls.HandshakeFailure}. */
  void handshakeFailed(boolean upstream, String reason, long nanos);

  void connectionOpened();

  void connectionClosed(long nanos);

  void bytesToUpstream(long n);

  void bytesToDownstream(long n);

  /** {@code reason}: refused, timeout, dns or tls. */
  void upstreamConnectFailed(String endpoint, String reason);

  /**
   * A connection the listener did not take, or an accept that failed; {@code reason} is one of
   * {@link MetricNames#MAX_CONNECTIONS}, {@link MetricNames#MAX_HANDSHAKE_RATE}, {@link MetricNames#ACCEPT_ERROR}.
   */
  void connectionRejected(String reason);

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
    public void connectionClosed(long nanos) {
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
    public void connectionRejected(String reason) {
    }
  };
}
