package io.tlsproxy.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.Base64;

/**
 * A public-key pin: the base64 SHA-256 of a certificate's DER SubjectPublicKeyInfo, the form HPKP used
 * (RFC 7469 section 2.4). It survives re-issuing a certificate for the same key.
 */
public final class SpkiPin {

  private final String text;
  private final byte[] sha256;

  private SpkiPin(String text, byte[] sha256) {
    this.text = text;
    this.sha256 = sha256;
  }

  /** Parses {@code text}; the exception's message says what is wrong with it. */
  public static SpkiPin parse(String text) {
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(text.trim());
    } catch (IllegalArgumentException e) {
      raw = null;
    }
    if (raw == null || raw.length != 32) {
      throw new IllegalArgumentException("'" + text + "' is not the base64 of a SHA-256 (32 bytes); compute it "
          + "with: openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform DER | "
          + "openssl dgst -sha256 -binary | base64");
    }
    return new SpkiPin(text.trim(), raw);
  }

  /** The pin of {@code cert}'s public key, base64. */
  public static String of(X509Certificate cert) {
    return Base64.getEncoder().encodeToString(digest(cert));
  }

  public boolean matches(X509Certificate cert) {
    return MessageDigest.isEqual(sha256, digest(cert));
  }

  private static byte[] digest(X509Certificate cert) {
    try {
      // getEncoded() of an X.509 public key is its SubjectPublicKeyInfo.
      return MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
