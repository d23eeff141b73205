package io.tlsproxy.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * TLS originated towards an upstream: one context per upstream policy (contexts are never shared between
 * policies, so verification settings cannot leak from one upstream to another).
 */
public final class ClientTls {

  private final SslContext context;
  private final TlsPolicy policy;
  private final String serverName;
  private final boolean verify;
  private final String trustSource;
  private final KeyMaterial clientCertificate;
  private final List<X509Certificate> cas;

  ClientTls(SslContext context, TlsPolicy policy, String serverName, boolean verify, String trustSource,
            KeyMaterial clientCertificate, List<X509Certificate> cas) {
    this.context = context;
    this.policy = policy;
    this.serverName = serverName;
    this.verify = verify;
    this.trustSource = trustSource;
    this.clientCertificate = clientCertificate;
    this.cas = List.copyOf(cas);
  }

  /** The client certificate presented, and the CAs the upstream is checked against (none: JVM defaults). */
  public List<CertificateInUse> certificatesInUse() {
    List<CertificateInUse> out = new ArrayList<>();
    if (clientCertificate != null) {
      out.add(new CertificateInUse(CertificateInUse.CLIENT, clientCertificate.leaf()));
    }
    cas.forEach(ca -> out.add(new CertificateInUse(CertificateInUse.CA, ca)));
    return out;
  }

  /**
   * A handler for one connection to {@code host:port}. The name verified and sent as SNI is the configured
   * server name, else {@code host}; the session cache is keyed on it too.
   */
  public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
    return context.newHandler(alloc, serverName != null ? serverName : host, port);
  }

  public TlsPolicy policy() {
    return policy;
  }

  public String serverName() {
    return serverName;
  }

  public boolean verifiesPeer() {
    return verify;
  }

  public String trustSource() {
    return trustSource;
  }

  public KeyMaterial clientCertificate() {
    return clientCertificate;
  }
}
