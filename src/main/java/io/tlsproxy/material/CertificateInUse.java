package io.tlsproxy.material;

import java.security.cert.X509Certificate;

/** A certificate a listener serves, presents or trusts; {@code role} is server, client or ca. */
public record CertificateInUse(String role, X509Certificate certificate) {
  public static final String SERVER = "server";
  public static final String CLIENT = "client";
  public static final String CA = "ca";
}
