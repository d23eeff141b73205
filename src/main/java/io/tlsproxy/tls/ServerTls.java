package io.tlsproxy.tls;

import io.netty.handler.ssl.SslContext;
import io.tlsproxy.config.ServerTlsConfig.ClientAuth;
import io.tlsproxy.material.CertificateInUse;
import io.tlsproxy.material.KeyMaterial;
import io.tlsproxy.tls.policy.TlsPolicy;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The TLS side of a listener: one SSL context per certificate and client policy, chosen by the route the client's
 * SNI name selects and by that name. The first certificate serves clients without SNI or with an unknown name.
 * A route with a client policy of its own has contexts of its own, with their own session caches and ticket keys:
 * a session established under one policy never resumes under another, which could ask less of its clients.
 */
public final class ServerTls {

  /**
   * How one client policy asks for certificates, for reports.
   *
   * @param route       the route it belongs to, or null for the listener's own (which routes inherit)
   * @param trustSource where client certificates are verified against; "none" without client auth
   * @param cas         the CAs client certificates are checked against
   * @param crls        the revocation lists applied to client certificates; empty for none
   */
  public record ClientPolicy(String route, ClientAuth clientAuth, String trustSource, List<X509Certificate> cas,
                             List<X509CRL> crls) {
  }

  /** The contexts of one client policy, one per certificate, chosen by server name; with their ticket keys. */
  record PolicyContexts(ClientPolicy policy, ServerNameMatcher<SslContext> contexts, TicketKeys ticketKeys) {
  }

  /** Everything a reload replaces, swapped in one step so that a handshake never sees half of a reload. */
  private record State(PolicyContexts listener, Map<String, PolicyContexts> routes,
                       List<KeyMaterial> certificates) {
  }

  private final TlsPolicy policy;
  private volatile State state;

  /** {@code routes}: the contexts of each route with a client policy of its own, by route name, in route order. */
  ServerTls(TlsPolicy policy, PolicyContexts listener, Map<String, PolicyContexts> routes,
            List<KeyMaterial> certificates) {
    this.policy = policy;
    this.state = new State(listener, Collections.unmodifiableMap(new LinkedHashMap<>(routes)),
        List.copyOf(certificates));
  }

  /**
   * Starts encrypting session tickets with a new key; tickets under the key before it still resume, older
   * ones do not. Only the OpenSSL engine takes these keys (see {@link TicketKeys}).
   */
  public void rotateTicketKeys() {
    State s = state;
    s.listener().ticketKeys().rotate();
    s.routes().values().forEach(r -> r.ticketKeys().rotate());
  }

  /**
   * From now on, new handshakes use {@code newer}'s certificates and client trust; connections already open
   * keep what they started with. The policy is configuration and does not change.
   */
  public void replaceWith(ServerTls newer) {
    // With new ticket keys: a session from before the reload must not resume past a new client CA or CRL.
    this.state = newer.state;
  }

  /**
   * The certificates served (leaves) and the CAs client certificates are checked against: the listener's, then
   * each route's own, marked with the route's name.
   */
  public List<CertificateInUse> certificatesInUse() {
    State s = state;
    List<CertificateInUse> out = new ArrayList<>();
    s.certificates().forEach(km -> out.add(new CertificateInUse(CertificateInUse.SERVER, km.leaf())));
    for (ClientPolicy p : clientPolicies(s)) {
      p.cas().forEach(ca -> out.add(new CertificateInUse(CertificateInUse.CA, ca, p.route())));
    }
    return out;
  }

  /** The context for a client that sent {@code serverName} (null when it sent none), under the listener's policy. */
  public SslContext select(String serverName) {
    return state.listener().contexts().match(serverName);
  }

  /**
   * The context for a client that sent {@code serverName} (null when it sent none) and was routed to
   * {@code route}: under that route's client policy if it has one, else under the listener's.
   */
  public SslContext selectForRoute(String route, String serverName) {
    State s = state;
    return s.routes().getOrDefault(route, s.listener()).contexts().match(serverName);
  }

  /** The client policy of {@code route}: its own, or the listener's it inherits. */
  public ClientPolicy clientPolicy(String route) {
    State s = state;
    return s.routes().getOrDefault(route, s.listener()).policy();
  }

  /** The listener's client policy first, then the routes' own, in route order. */
  public List<ClientPolicy> clientPolicies() {
    return clientPolicies(state);
  }

  private static List<ClientPolicy> clientPolicies(State s) {
    List<ClientPolicy> out = new ArrayList<>();
    out.add(s.listener().policy());
    s.routes().values().forEach(r -> out.add(r.policy()));
    return out;
  }

  public TlsPolicy policy() {
    return policy;
  }

  /** The listener's own client auth. */
  public ClientAuth clientAuth() {
    return state.listener().policy().clientAuth();
  }

  public List<KeyMaterial> certificates() {
    return state.certificates();
  }

  /** Where the listener's client certificates are verified against, for reports; "none" without client auth. */
  public String trustSource() {
    return state.listener().policy().trustSource();
  }
}
