package io.tlsproxy.upstream;

import java.security.Security;

/**
 * Endpoint host names are resolved by the upstream pools, which keep addresses for {@code upstream.dnsTtl} and keep
 * the last good ones when a lookup fails. The JDK would add its own caches on top: 30 s for answers
 * ({@code networkaddress.cache.ttl}) and 10 s for failures ({@code networkaddress.cache.negative.ttl}), so that a
 * changed or recovered name could be missed for longer than configured.
 */
public final class JvmDnsCache {

  private JvmDnsCache() {
  }

  /**
   * Turns both JDK caches off. They are read once, at the JVM's first lookup: call this before anything resolves a
   * name. A value the operator set is kept: the system properties {@code sun.net.inetaddr.ttl} and
   * {@code sun.net.inetaddr.negative.ttl}, or a {@code networkaddress.cache.ttl} in java.security (where it is
   * commented out by default).
   */
  public static void turnOff() {
    if (Security.getProperty("networkaddress.cache.ttl") == null
        && System.getProperty("sun.net.inetaddr.ttl") == null) {
      Security.setProperty("networkaddress.cache.ttl", "0");
    }
    if (System.getProperty("sun.net.inetaddr.negative.ttl") == null) {
      Security.setProperty("networkaddress.cache.negative.ttl", "0");
    }
  }
}
