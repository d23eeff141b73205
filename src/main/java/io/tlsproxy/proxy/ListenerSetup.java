package io.tlsproxy.proxy;

import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.tls.ClientTls;
import io.tlsproxy.tls.ServerTls;

/**
 * A listener ready to run: its configuration with the TLS contexts built from it.
 *
 * @param serverTls null for a plaintext listener
 * @param clientTls null for a plaintext upstream
 */
public record ListenerSetup(ListenerConfig config, ServerTls serverTls, ClientTls clientTls) {
  public String name() {
    return config.name();
  }
}
