package io.tlsproxy.tls;

import io.netty.handler.ssl.SslContext;
import io.tlsproxy.config.ServerTlsConfig.ClientAuth;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The TLS side of a listener: one SSL context per certificate, chosen by the SNI name the client sends. The
 * first certificate serves clients without SNI or with an unknown name.
 */
public final class ServerTls {

  private final ServerNameMatcher<SslContext> contexts;
  private final TlsPolicy policy;
  private final ClientAuth clientAuth;
  private final List<KeyMaterial> certificates;
  private final String trustSource;
  private final List<X509Certificate> clientCas;

  ServerTls(ServerNameMatcher<SslContext> contexts, TlsPolicy policy, ClientAuth clientAuth,
            List<KeyMaterial> certificates, String trustSource, List<X509Certificate> clientCas) {
    this.contexts = contexts;
    this.policy = policy;
    this.clientAuth = clientAuth;
    this.certificates = certificates;
    this.trustSource = trustSource;
    this.clientCas = List.copyOf(clientCas);
  }

  /** The certificates served (leaves) and the CAs client certificates are checked against. */
  public List<CertificateInUse> certificatesInUse() {
    List<CertificateInUse> out = new ArrayList<>();
    certificates.forEach(km -> out.add(new CertificateInUse(CertificateInUse.SERVER, km.leaf())));
    clientCas.forEach(ca -> out.add(new CertificateInUse(CertificateInUse.CA, ca)));
    return out;
  }

  /** The context for a client that sent {@code serverName} (null when it sent none). */
  public SslContext select(String serverName) {
    return contexts.match(serverName);
  }

  public TlsPolicy policy() {
    return policy;
  }

  public ClientAuth clientAuth() {
    return clientAuth;
  }

  public List<KeyMaterial> certificates() {
    return certificates;
  }

  /** Where client certificates are verified against, for reports; "none" without client auth. */
  public String trustSource() {
    return trustSource;
  }
}
