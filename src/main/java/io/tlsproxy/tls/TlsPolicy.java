package io.tlsproxy.tls;

import java.util.List;

/**
 * A resolved TLS policy: exactly what a handshake may use, in preference order.
 *
 * @param weakened true when the policy allows something the intermediate profile does not (legacy profile or
 *                 an explicit weaker override); such a choice is logged at start
 */
public record TlsPolicy(String profile, List<String> protocols, List<String> cipherSuites,
                        List<String> namedGroups, List<String> alpn, boolean weakened) {

  /** Whether the profile or overrides enable TLS 1.1 or older, which the JDK disables unless told otherwise. */
  public boolean allowsPreTls12() {
    return protocols.stream().anyMatch(p -> p.equals("TLSv1") || p.equals("TLSv1.1"));
  }
}
