package io.tlsproxy.material;

import java.security.cert.X509Certificate;

/**
 * A certificate a listener serves, presents or trusts; {@code role} is server, client or ca. {@code route} names
 * the route whose own client policy trusts a CA, and is null for what belongs to the listener as a whole.
 */
public record CertificateInUse(String role, X509Certificate certificate, String route) {
  public static final String SERVER = "server";
  public static final String CLIENT = "client";
  public static final String CA = "ca";

  public CertificateInUse(String role, X509Certificate certificate) {
    this(role, certificate, null);
  }
}
