package io.tlsproxy.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.tlsproxy.material.CertificateInUse;
import io.tlsproxy.material.KeyMaterial;
import io.tlsproxy.tls.policy.TlsPolicy;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * TLS originated towards an upstream: one context per upstream policy (contexts are never shared between
 * policies, so verification settings cannot leak from one upstream to another).
 */
public final class ClientTls {

  /** Everything a reload replaces, swapped in one step. */
  private record State(SslContext context, KeyMaterial clientCertificate, List<X509Certificate> cas) {
  }

  private final TlsPolicy policy;
  private final String serverName;
  private final boolean verify;
  private final String trustSource;
  private volatile State state;

  ClientTls(SslContext context, TlsPolicy policy, String serverName, boolean verify, String trustSource,
            KeyMaterial clientCertificate, List<X509Certificate> cas) {
    this.policy = policy;
    this.serverName = serverName;
    this.verify = verify;
    this.trustSource = trustSource;
    this.state = new State(context, clientCertificate, List.copyOf(cas));
  }

  /**
   * From now on, new upstream connections use {@code newer}'s trust and client certificate; open ones keep
   * theirs. A new context also starts an empty session cache, so no session made under the old trust resumes.
   */
  public void replaceWith(ClientTls newer) {
    this.state = newer.state;
  }

  /** The client certificate presented, and the CAs the upstream is checked against (none: JVM defaults). */
  public List<CertificateInUse> certificatesInUse() {
    State s = state;
    List<CertificateInUse> out = new ArrayList<>();
    if (s.clientCertificate() != null) {
      out.add(new CertificateInUse(CertificateInUse.CLIENT, s.clientCertificate().leaf()));
    }
    s.cas().forEach(ca -> out.add(new CertificateInUse(CertificateInUse.CA, ca)));
    return out;
  }

  /**
   * A handler for one connection to {@code host:port}. The name verified and sent as SNI is the configured
   * server name, else {@code host}; the session cache is keyed on it too.
   */
  public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
    return state.context().newHandler(alloc, serverName != null ? serverName : host, port);
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
    return state.clientCertificate();
  }
}
