package io.tlsproxy.config;

/**
 * A protocol that begins in plaintext and upgrades to TLS in-band, named by {@code startTls} on a listener's
 * {@code tls} (tlsproxy plays the server and upgrades the client) or on an upstream's {@code tls} (tlsproxy
 * upgrades its connection to the server).
 */
public enum StartTlsProtocol {
  /** SMTP {@code STARTTLS}, RFC 3207. */
  SMTP,
  /** IMAP {@code STARTTLS}, RFC 9051 section 6.2.1. */
  IMAP,
  /** POP3 {@code STLS}, RFC 2595 section 4. */
  POP3,
  /** PostgreSQL {@code SSLRequest}. */
  POSTGRES,
  /** LDAP StartTLS extended operation, RFC 4511 section 4.14. */
  LDAP;

  /** The name as written in the configuration. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
