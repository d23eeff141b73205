package io.tlsproxy.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * A certificate with its key: either PEM files ({@code cert} + {@code key}) or a PKCS#12 {@code keystore}.
 *
 * @param password    for the keystore or an encrypted PEM key; never logged
 * @param serverNames SNI names this certificate answers; empty means the certificate's own DNS names
 * @param path        the key path of this entry, for messages about the material
 * @param secretDir   the Kubernetes Secret directory {@code cert} and {@code key} were read from; null otherwise
 */
public record CertificateConfig(Path cert, Path key, Path keystore, String password, List<String> serverNames,
                                String path, Path secretDir) {

  /** The files this entry reads, for watching them for changes. */
  public List<Path> files() {
    return Stream.of(cert, key, keystore).filter(Objects::nonNull).toList();
  }

  @Override
  public String toString() {
    // The password must never reach a log line.
    return "CertificateConfig[cert=" + cert + ", key=" + key + ", keystore=" + keystore + ", serverNames="
        + serverNames + (secretDir == null ? "" : ", secretDir=" + secretDir) + "]";
  }
}
