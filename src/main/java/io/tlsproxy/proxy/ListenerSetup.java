package io.tlsproxy.proxy;

import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.tls.CertificateInUse;
import io.tlsproxy.tls.ClientTls;
import io.tlsproxy.tls.ServerTls;
import java.util.ArrayList;
import java.util.List;

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

  /** The certificates this listener serves, presents and trusts right now (they change with reloads). */
  public List<CertificateInUse> certificatesInUse() {
    List<CertificateInUse> out = new ArrayList<>();
    if (serverTls != null) {
      out.addAll(serverTls.certificatesInUse());
    }
    if (clientTls != null) {
      out.addAll(clientTls.certificatesInUse());
    }
    return out;
  }
}
