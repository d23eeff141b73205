package io.tlsproxy.metrics;

import java.security.cert.X509Certificate;

/** What the proxy records. Implementations must be cheap and thread-safe; the proxy holds no lock to call them. */
public interface ProxyMetrics {

  /** The meters of one listener, bound once so that the hot path does no look-ups. */
  ListenerMetrics listener(String name);

  /** Publishes the expiry of a certificate in use; {@code role} is server, client or ca. */
  void certificate(String listener, String role, X509Certificate cert);

  /** Records nothing: for embedding and for tests that do not look at metrics. */
  ProxyMetrics NONE = new ProxyMetrics() {
    @Override
    public ListenerMetrics listener(String name) {
      return ListenerMetrics.NONE;
    }

    @Override
    public void certificate(String listener, String role, X509Certificate cert) {
    }
  };
}
