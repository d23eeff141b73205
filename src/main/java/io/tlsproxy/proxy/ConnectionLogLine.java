package io.tlsproxy.proxy;

import java.util.logging.Logger;

/**
 * The one line logged when a connection ends, in logfmt: who, what TLS on each side, bytes each way, how long
 * and why it closed. Values a client controls (SNI) are sanitised; no key material is ever part of it.
 */
final class ConnectionLogLine {

  private static final Logger ACCESS = Logger.getLogger("tlsproxy.access");

  private final String listener;
  private final String client;
  private String serverName;
  private String downstreamTls;
  private String peerSubject;
  private String upstream;
  private String upstreamTls;
  private long bytesToUpstream;
  private long bytesToDownstream;
  private String closeReason;

  ConnectionLogLine(String listener, String client) {
    this.listener = listener;
    this.client = client;
  }

  void serverName(String name) {
    this.serverName = name;
  }

  void downstreamTls(String protocolAndCipher, String peer) {
    this.downstreamTls = protocolAndCipher;
    this.peerSubject = peer;
  }

  void upstream(String endpoint) {
    this.upstream = endpoint;
  }

  void upstreamTls(String protocolAndCipher, String ignored) {
    this.upstreamTls = protocolAndCipher;
  }

  void bytes(long toUpstream, long toDownstream) {
    this.bytesToUpstream = toUpstream;
    this.bytesToDownstream = toDownstream;
  }

  /** The first reason recorded is the one that caused the close; later ones are consequences. */
  void closeReasonIfUnset(String reason) {
    if (closeReason == null) {
      closeReason = reason;
    }
  }

  String closeReason() {
    return closeReason;
  }

  void emit(long durationNanos) {
    StringBuilder b = new StringBuilder(256);
    b.append("connection listener=").append(listener).append(" client=").append(client);
    field(b, "sni", serverName);
    field(b, "tls", downstreamTls);
    field(b, "peer", peerSubject);
    field(b, "upstream", upstream);
    field(b, "upstream_tls", upstreamTls);
    b.append(" bytes_to_upstream=").append(bytesToUpstream);
    b.append(" bytes_to_downstream=").append(bytesToDownstream);
    b.append(" duration_ms=").append(durationNanos / 1_000_000);
    b.append(" close=").append(closeReason == null ? "unknown" : closeReason);
    ACCESS.info(b.toString());
  }

  private static void field(StringBuilder b, String key, String value) {
    if (value == null) {
      return;
    }
    b.append(' ').append(key).append('=');
    String v = value.length() > 256 ? value.substring(0, 256) : value;
    boolean quote = false;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c <= ' ' || c == '"' || c == '=' || c > '~') {
        quote = true;
        break;
      }
    }
    if (!quote) {
      b.append(v);
      return;
    }
    b.append('"');
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < ' ' || c > '~') {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    b.append('"');
  }
}
