package io.tlsproxy.tls.policy;

import java.util.List;

/**
 * A resolved TLS policy: exactly what a handshake may use, in preference order, and the engine that runs it.
 *
 * @param engine   {@link #OPENSSL} or {@link #JDK}: the one actually used, after any fallback
 * @param weakened true when the policy allows something the intermediate profile does not (legacy profile or
 *                 an explicit weaker override); such a choice is logged at start
 * @param notes    what the engine cannot honour or chose instead, logged at start and printed by --check
 */
public record TlsPolicy(String profile, List<String> protocols, List<String> cipherSuites,
                        List<String> namedGroups, List<String> alpn, boolean weakened, String engine,
                        List<String> notes) {

  public static final String OPENSSL = "openssl";
  public static final String JDK = "jdk";

  public boolean openssl() {
    return OPENSSL.equals(engine);
  }

  /** Whether the profile or overrides enable TLS 1.1 or older, which the JDK disables unless told otherwise. */
  public boolean allowsPreTls12() {
    return protocols.stream().anyMatch(p -> p.equals("TLSv1") || p.equals("TLSv1.1"));
  }
}
