package io.tlsproxy.tls;

import io.netty.handler.ssl.SslContext;
import io.tlsproxy.config.ServerTlsConfig.ClientAuth;
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

  ServerTls(ServerNameMatcher<SslContext> contexts, TlsPolicy policy, ClientAuth clientAuth,
            List<KeyMaterial> certificates, String trustSource) {
    this.contexts = contexts;
    this.policy = policy;
    this.clientAuth = clientAuth;
    this.certificates = certificates;
    this.trustSource = trustSource;
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
