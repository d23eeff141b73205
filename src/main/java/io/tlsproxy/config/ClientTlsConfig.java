package io.tlsproxy.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * TLS originated towards an upstream. Certificates and host names are verified unless
 * {@code insecureSkipVerify} is set, which is logged as a warning at every start.
 *
 * @param serverName sent as SNI and verified against the upstream's certificate; null means the endpoint's host
 * @param ca         trusted CAs; null means the JVM's trust store
 * @param cert       client certificate for mutual TLS; null for none
 * @param secretDir  the Kubernetes Secret directory cert, key (and ca, unless given) were read from; or null
 * @param verifyUris     URI SANs (SPIFFE IDs, with wildcards) of which the upstream's leaf must carry one
 * @param verifyDnsNames DNS SANs of which the upstream's leaf must carry one (with verifyUris: one of either)
 * @param spkiSha256     key pins: the upstream's leaf key must be one of these
 * @param crl        revoked upstream certificates (PEM or DER X.509 CRL issued by a CA in ca); null for none
 * @param keyLogFile where the secrets of every handshake are appended in the NSS key log format, for decrypting
 *                   captures while debugging (OpenSSL engine only); null (the default) for none
 * @param startTls   the plaintext protocol whose in-band upgrade comes before the handshake; null: TLS from the
 *                   first byte
 */
public record ClientTlsConfig(String serverName, Path ca, Path cert, Path key, String password,
                              PolicyConfig policy, boolean insecureSkipVerify, Duration handshakeTimeout,
                              String path, Path secretDir, List<String> verifyUris, List<String> verifyDnsNames,
                              List<String> spkiSha256, Path crl, Path keyLogFile,
                              StartTlsProtocol startTls) {

  /** Every file this TLS side reads, for watching them for changes. */
  public List<Path> files() {
    return Stream.of(ca, cert, key, crl).filter(Objects::nonNull).toList();
  }

  @Override
  public String toString() {
    return "ClientTlsConfig[serverName=" + serverName + ", ca=" + ca + ", cert=" + cert + ", key=" + key
        + ", policy=" + policy + ", insecureSkipVerify=" + insecureSkipVerify + ", secretDir=" + secretDir
        + ", verifyUris=" + verifyUris + ", verifyDnsNames=" + verifyDnsNames + ", spkiSha256=" + spkiSha256
        + ", crl=" + crl + ", keyLogFile=" + keyLogFile + ", startTls=" + startTls + "]";
  }
}
