package io.tlsproxy.auth;

import java.security.cert.CertificateException;

/**
 * A verified peer certificate that an allow-list refuses. Thrown from a trust manager, so that the TLS engine
 * aborts the handshake; {@link #category()} is the stable failure reason logs and metrics key on, and
 * {@link #detail()} names the peer and the rule set it failed.
 */
public final class PeerNotAllowedException extends CertificateException {

  private final String category;
  private final String detail;

  public PeerNotAllowedException(String category, String detail) {
    super(category + ": " + detail);
    this.category = category;
    this.detail = detail;
  }

  public String category() {
    return category;
  }

  public String detail() {
    return detail;
  }
}
