package io.tlsproxy.config;

/**
 * The files of a Kubernetes TLS Secret mounted as a directory: the kubernetes.io/tls type has {@code tls.crt}
 * and {@code tls.key}; cert-manager adds {@code ca.crt}, the issuing CA
 * (https://cert-manager.io/docs/usage/certificate/#the-secret). The mounted names are symlinks through
 * {@code ..data}; they are read like any other file.
 */
public final class SecretDir {
  public static final String CERT = "tls.crt";
  public static final String KEY = "tls.key";
  public static final String CA = "ca.crt";

  private SecretDir() {
  }
}
