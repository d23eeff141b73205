package io.tlsproxy.tls;

import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.tlsproxy.auth.AllowList;
import io.tlsproxy.auth.PeerNotAllowedException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateRevokedException;
import java.util.Locale;

/**
 * Maps what a TLS engine reports about a failed handshake to one of a small, fixed set of reasons. Logs and
 * metrics key on these names, so they are public API; the table is tested per engine.
 */
public final class HandshakeFailure {

  public static final String NOT_TLS = "not_tls";
  public static final String PROTOCOL_VERSION = "protocol_version";
  public static final String NO_SHARED_CIPHER = "no_shared_cipher";
  public static final String UNKNOWN_CA = "unknown_ca";
  public static final String BAD_CERTIFICATE = "bad_certificate";
  public static final String CERTIFICATE_EXPIRED = "certificate_expired";
  public static final String HOSTNAME_MISMATCH = "hostname_mismatch";
  public static final String NO_CLIENT_CERTIFICATE = "no_client_certificate";
  public static final String CERTIFICATE_REVOKED = "certificate_revoked";
  /** A verified client certificate that the listener's {@code allow} list refuses. */
  public static final String CLIENT_NOT_ALLOWED = AllowList.CLIENT_NOT_ALLOWED;
  /** A verified upstream certificate without the SAN ({@code verifyUris}/{@code verifyDnsNames}) or key pin asked. */
  public static final String PEER_NOT_ALLOWED = AllowList.PEER_NOT_ALLOWED;
  /** The client asked for a server name that no route answers, and the listener has no default route. */
  public static final String UNKNOWN_SERVER_NAME = "unknown_server_name";
  /** A client of a STARTTLS listener ended (or gave up) without upgrading: it got the protocol's refusal. */
  public static final String STARTTLS_REQUIRED = "starttls_required";
  /** A server did not offer the in-band upgrade, or refused it. */
  public static final String STARTTLS_REFUSED = "starttls_refused";
  /**
   * The peer's plaintext dialogue was not the protocol (garbage, lines or messages past their bounds), or it sent
   * bytes after the upgrade command before the TLS handshake: never acted on, never forwarded.
   */
  public static final String STARTTLS_PROTOCOL_ERROR = "starttls_protocol_error";
  public static final String TIMEOUT = "timeout";
  public static final String PEER_CLOSED = "peer_closed";
  public static final String OTHER = "other";

  private HandshakeFailure() {
  }

  /** The reason for {@code failure}, looking through its causes. */
  public static String reason(Throwable failure) {
    // Our own refusals first, wherever the engine wrapped them: their messages would also match the table below.
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PeerNotAllowedException p) {
        return p.category();
      }
      if (t instanceof CertificateRevokedException) {
        return CERTIFICATE_REVOKED;
      }
      if (t instanceof UnknownServerNameException) {
        return UNKNOWN_SERVER_NAME;
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String r = direct(t);
      if (r != null) {
        return r;
      }
    }
    return OTHER;
  }

  /** What an allow-list said about a refused peer (who, and the rule set it failed); null for other failures. */
  public static String detail(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PeerNotAllowedException p) {
        return p.detail();
      }
    }
    return null;
  }

  private static String direct(Throwable t) {
    if (t instanceof NotSslRecordException) {
      return NOT_TLS;
    }
    if (t instanceof SslHandshakeTimeoutException) {
      return TIMEOUT;
    }
    if (t instanceof CertificateExpiredException) {
      return CERTIFICATE_EXPIRED;
    }
    if (t instanceof ClosedChannelException) {
      return PEER_CLOSED;
    }
    String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
    if (m.contains("certificate_revoked") || m.contains("has been revoked")) {
      return CERTIFICATE_REVOKED;
    }
    if (m.contains("no subject alternative") || m.contains("no name matching")
        || m.contains("hostname") && m.contains("verif")) {
      return HOSTNAME_MISMATCH;
    }
    if (m.contains("certificate_expired") || m.contains("certificate expired")
        || m.contains("validity check failed") || m.contains("notafter")) {
      return CERTIFICATE_EXPIRED;
    }
    if (m.contains("empty client certificate chain") || m.contains("certificate_required")
        || m.contains("peer_did_not_return_a_certificate")) {
      return NO_CLIENT_CERTIFICATE;
    }
    if (m.contains("protocol_version") || m.contains("protocol version") || m.contains("no appropriate protocol")
        || m.contains("unsupported_protocol") || m.contains("protocol versions")
        || m.contains("requested protocol")) {
      return PROTOCOL_VERSION;
    }
    if (m.contains("no cipher suites in common") || m.contains("no_shared_cipher")
        || m.contains("no negotiable cipher") || m.contains("handshake_failure")) {
      return NO_SHARED_CIPHER;
    }
    if (m.contains("unable to find valid certification path") || m.contains("unknown_ca")
        || m.contains("pkix path building failed") || m.contains("path does not chain")) {
      return UNKNOWN_CA;
    }
    if (m.contains("bad_certificate") || m.contains("certificate_unknown") || m.contains("pkix path validation")
        || m.contains("unsupported_certificate")) {
      return BAD_CERTIFICATE;
    }
    if (m.contains("not an ssl/tls record")) {
      return NOT_TLS;
    }
    if (m.contains("connection reset") || m.contains("broken pipe") || m.contains("connection closed")
        || m.contains("closed engine") || m.contains("inbound closed") || m.contains("before handshake")) {
      return PEER_CLOSED;
    }
    return null;
  }
}
