package io.tlsproxy.config;

import java.util.List;

/**
 * A TLS policy as configured: a named profile and optional overrides. An empty override list means "use the
 * profile's". The tls package resolves this into concrete protocol and suite lists.
 *
 * @param profile modern, intermediate (default) or legacy (Mozilla's server-side TLS profiles)
 * @param engine  the TLS implementation: openssl (BoringSSL, native) or jdk; null means the default
 */
public record PolicyConfig(String profile, List<String> protocols, List<String> cipherSuites,
                           List<String> namedGroups, List<String> alpn, String engine, String path) {
  public static final String DEFAULT_PROFILE = "intermediate";
}
