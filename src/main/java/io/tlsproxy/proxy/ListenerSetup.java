package io.tlsproxy.proxy;

import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.tls.CertificateInUse;
import io.tlsproxy.tls.ServerTls;
import java.util.ArrayList;
import java.util.List;

/**
 * A listener ready to run: its configuration with the TLS contexts built from it.
 *
 * @param serverTls null for a plaintext or passthrough listener; in terminate mode it also serves the routes'
 *                  own certificates
 * @param routes    where connections go, each route with the TLS it originates
 */
public record ListenerSetup(ListenerConfig config, ServerTls serverTls, RouteTable routes) {
  public String name() {
    return config.name();
  }

  /** The certificates this listener serves, presents and trusts right now (they change with reloads). */
  public List<CertificateInUse> certificatesInUse() {
    List<CertificateInUse> out = new ArrayList<>();
    if (serverTls != null) {
      out.addAll(serverTls.certificatesInUse());
    }
    for (Route r : routes.all()) {
      if (r.clientTls() != null) {
        out.addAll(r.clientTls().certificatesInUse());
      }
    }
    return out;
  }
}
