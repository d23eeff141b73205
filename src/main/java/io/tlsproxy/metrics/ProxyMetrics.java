package io.tlsproxy.metrics;

import io.tlsproxy.material.CertificateInUse;
import java.util.List;

/** What the proxy records. Implementations must be cheap and thread-safe; the proxy holds no lock to call them. */
public interface ProxyMetrics {

  /** The meters of one listener, bound once so that the hot path does no look-ups. */
  ListenerMetrics listener(String name);

  /** Publishes the expiry of the certificates a listener uses now, replacing what was published before. */
  void certificates(String listener, List<CertificateInUse> certificates);

  /** Counts an attempt to reload a listener's certificate material. */
  void reloaded(String listener, boolean success);

  /** Records nothing: for embedding and for tests that do not look at metrics. */
  ProxyMetrics NONE = new ProxyMetrics() {
    @Override
    public ListenerMetrics listener(String name) {
      return ListenerMetrics.NONE;
    }

    @Override
    public void certificates(String listener, List<CertificateInUse> certificates) {
    }

    @Override
    public void reloaded(String listener, boolean success) {
    }
  };
}
