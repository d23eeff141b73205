package io.tlsproxy.tls;

import io.netty.handler.ssl.SslContext;
import io.tlsproxy.config.ServerTlsConfig.ClientAuth;
import io.tlsproxy.material.CertificateInUse;
import io.tlsproxy.material.KeyMaterial;
import io.tlsproxy.tls.policy.TlsPolicy;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The TLS side of a listener: one SSL context per certificate, chosen by the SNI name the client sends. The
 * first certificate serves clients without SNI or with an unknown name.
 */
public final class ServerTls {

  /** Everything a reload replaces, swapped in one step so that a handshake never sees half of a reload. */
  private record State(ServerNameMatcher<SslContext> contexts, TicketKeys ticketKeys,
                       List<KeyMaterial> certificates, List<X509Certificate> clientCas) {
  }

  private final TlsPolicy policy;
  private final ClientAuth clientAuth;
  private final String trustSource;
  private volatile State state;

  ServerTls(ServerNameMatcher<SslContext> contexts, List<SslContext> all, TlsPolicy policy, ClientAuth clientAuth,
            List<KeyMaterial> certificates, String trustSource, List<X509Certificate> clientCas) {
    this.policy = policy;
    this.clientAuth = clientAuth;
    this.trustSource = trustSource;
    this.state = new State(contexts, new TicketKeys(all), List.copyOf(certificates), List.copyOf(clientCas));
  }

  /**
   * Starts encrypting session tickets with a new key; tickets under the key before it still resume, older
   * ones do not. Only the OpenSSL engine takes these keys (see {@link TicketKeys}).
   */
  public void rotateTicketKeys() {
    state.ticketKeys().rotate();
  }

  /**
   * From now on, new handshakes use {@code newer}'s certificates and client trust; connections already open
   * keep what they started with. The policy is configuration and does not change.
   */
  public void replaceWith(ServerTls newer) {
    // With new ticket keys: a session from before the reload must not resume past a new client CA or CRL.
    this.state = newer.state;
  }

  /** The certificates served (leaves) and the CAs client certificates are checked against. */
  public List<CertificateInUse> certificatesInUse() {
    State s = state;
    List<CertificateInUse> out = new ArrayList<>();
    s.certificates().forEach(km -> out.add(new CertificateInUse(CertificateInUse.SERVER, km.leaf())));
    s.clientCas().forEach(ca -> out.add(new CertificateInUse(CertificateInUse.CA, ca)));
    return out;
  }

  /** The context for a client that sent {@code serverName} (null when it sent none). */
  public SslContext select(String serverName) {
    return state.contexts().match(serverName);
  }

  public TlsPolicy policy() {
    return policy;
  }

  public ClientAuth clientAuth() {
    return clientAuth;
  }

  public List<KeyMaterial> certificates() {
    return state.certificates();
  }

  /** Where client certificates are verified against, for reports; "none" without client auth. */
  public String trustSource() {
    return trustSource;
  }
}
