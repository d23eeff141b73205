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
 * @param sessionTicketKeyRotation how often a new session ticket key starts encrypting (OpenSSL engine); the
 *                 key before it still decrypts, so a ticket resumes for one to two intervals
 * @param keyLogFile   where the secrets of every handshake are appended in the NSS key log format, for
 *                     decrypting captures while debugging (OpenSSL engine only); null (the default) for none
 * @param startTls     the plaintext protocol whose in-band upgrade comes before the handshake; null: TLS from the
 *                     first byte
 */
public record ServerTlsConfig(List<CertificateConfig> certificates, PolicyConfig policy, ClientAuth clientAuth,
                              Path clientCa, Duration handshakeTimeout, AllowConfig allow, Path crl,
                              Path clientCaSecretDir, Duration sessionTicketKeyRotation,
                              Path keyLogFile, StartTlsProtocol startTls) {
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_TICKET_KEY_ROTATION = Duration.ofHours(1);
  /**
   * Tickets live up to two intervals, and RFC 8446 section 4.6.1 caps a ticket's lifetime at 7 days; a day keeps
   * the damage of a leaked key small (it decrypts the sessions it protected).
   */
  public static final Duration MAX_TICKET_KEY_ROTATION = Duration.ofDays(1);

  /** Every file this TLS side reads, for watching them for changes. */
  public List<Path> files() {
    List<Path> out = new ArrayList<>();
    certificates.forEach(c -> out.addAll(c.files()));
    Stream.of(clientCa, crl).filter(Objects::nonNull).forEach(out::add);
    return out;
  }

  /** The listener's own client policy; routes without one of their own inherit it. */
  public ClientPolicyConfig clientPolicy() {
    return new ClientPolicyConfig(clientAuth, clientCa, allow, crl, clientCaSecretDir, policy.path());
  }

  /** Whether clients must, may or must not present a certificate. */
  public enum ClientAuth { NONE, OPTIONAL, REQUIRED }
}
