package io.tlsproxy.config;

import io.tlsproxy.config.ServerTlsConfig.ClientAuth;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Whether and how a terminating listener, or one of its routes, asks clients for a certificate: the
 * {@code clientAuth}, {@code clientCa}, {@code allow} and {@code crl} keys, read and checked the same way in both
 * places. A route with a policy of its own replaces the listener's for the clients its SNI names select.
 *
 * @param clientCa          trust for client certificates; null when {@code clientAuth} is none
 * @param allow             which verified clients are admitted; null admits every verified client
 * @param crl               revoked client certificates; null for none
 * @param clientCaSecretDir the Secret directory {@code clientCa} was read from; null if a file
 * @param path              the key path holding these keys, e.g. {@code listeners[0].tls} or
 *                          {@code listeners[0].routes[1]}, for messages
 */
public record ClientPolicyConfig(ClientAuth clientAuth, Path clientCa, AllowConfig allow, Path crl,
                                 Path clientCaSecretDir, String path) {

  /** The policy keys, as a listener's {@code tls} and a route both spell them. */
  static final List<String> KEYS = List.of("clientAuth", "clientCa", "allow", "crl", "clientCaSecretDir");

  /** The files this policy reads, for watching them for changes. */
  public List<Path> files() {
    return Stream.of(clientCa, crl).filter(Objects::nonNull).toList();
  }

  /** The key clientCa was given by, for messages. */
  public String caKey() {
    return path + (clientCaSecretDir != null ? ".clientCaSecretDir" : ".clientCa");
  }
}
