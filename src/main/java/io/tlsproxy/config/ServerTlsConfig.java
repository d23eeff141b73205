package io.tlsproxy.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * TLS accepted by a listener.
 *
 * @param certificates the first one is served to clients that send no SNI or an unknown name
 * @param clientCa     trust for client certificates; null when {@code clientAuth} is none
 * @param allow        which verified clients are admitted; null admits every verified client
 * @param crl          revoked client certificates (PEM or DER X.509 CRL); null for none
 * @param clientCaSecretDir the Secret directory {@code clientCa} was read from ({@code ca.crt}); null if a file
 */
public record ServerTlsConfig(List<CertificateConfig> certificates, PolicyConfig policy, ClientAuth clientAuth,
                              Path clientCa, Duration handshakeTimeout, AllowConfig allow, Path crl,
                              Path clientCaSecretDir) {
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  /** Every file this TLS side reads, for watching them for changes. */
  public List<Path> files() {
    List<Path> out = new ArrayList<>();
    certificates.forEach(c -> out.addAll(c.files()));
    Stream.of(clientCa, crl).filter(Objects::nonNull).forEach(out::add);
    return out;
  }

  /** Whether clients must, may or must not present a certificate. */
  public enum ClientAuth { NONE, OPTIONAL, REQUIRED }
}
