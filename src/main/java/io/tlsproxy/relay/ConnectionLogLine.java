package io.tlsproxy.relay;

import io.tlsproxy.log.LineFormatter;
import io.tlsproxy.metrics.CloseReason;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The one line logged when a connection ends: its id and start, who, what TLS on each side and how long its
 * handshake took, how long the upstream connect took, bytes each way, how long the connection lasted and why it
 * closed. The record's text is logfmt; it also carries the fields themselves, which the JSON line format
 * ({@code logging.format: json}) writes as typed values instead. Values a client controls (SNI) are bounded and
 * escaped; no key material is ever part of it.
 */
final class ConnectionLogLine {

  private static final Logger ACCESS = Logger.getLogger("tlsproxy.access");
  private static final int MAX_VALUE = 256;
  /** Connection ids: unique in this process, in the order connections were accepted. */
  private static final AtomicLong IDS = new AtomicLong();

  private final boolean enabled;
  private final long id = IDS.incrementAndGet();
  private final long startMillis = System.currentTimeMillis();
  private final String listener;
  private String client;
  private String via;
  private String serverName;
  private String downstreamTls;
  private String downstreamGroup;
  private Long handshakeMillis;
  private String peerSubject;
  private String refused;
  private String route;
  private String upstream;
  private Long upstreamConnectMillis;
  private String upstreamTls;
  private String upstreamGroup;
  private Long upstreamHandshakeMillis;
  private long bytesToUpstream;
  private long bytesToDownstream;
  private CloseReason closeReason;
  private String closeDetail;

  /** {@code enabled} false: nothing is logged ({@code logging.access: false}); the fields are still kept. */
  ConnectionLogLine(boolean enabled, String listener, String client) {
    this.enabled = enabled;
    this.listener = listener;
    this.client = client;
  }

  /** The client a PROXY header named replaces the socket's peer, which is kept as {@code via}. */
  void client(String realClient, String peer) {
    this.client = realClient;
    this.via = peer;
  }

  void serverName(String name) {
    this.serverName = name;
  }

  /** {@code group}: the key exchange group, null when the engine does not tell (the JDK's). */
  void downstreamTls(String protocolAndCipher, String group, String peer, long handshakeNanos) {
    this.downstreamTls = protocolAndCipher;
    this.downstreamGroup = group;
    this.peerSubject = peer;
    this.handshakeMillis = handshakeNanos / 1_000_000;
  }

  /** Why an allow-list refused the peer: who, and the rule set it failed. */
  void refused(String detail) {
    if (refused == null) {
      refused = detail;
    }
  }

  void route(String name) {
    this.route = name;
  }

  /** The endpoint the connection goes to, reached after {@code connectNanos}. */
  void upstream(String endpoint, long connectNanos) {
    this.upstream = endpoint;
    this.upstreamConnectMillis = connectNanos / 1_000_000;
  }

  /** This connection's id, for other log lines about it. */
  long id() {
    return id;
  }

  void upstreamTls(String protocolAndCipher, String group, long handshakeNanos) {
    this.upstreamTls = protocolAndCipher;
    this.upstreamGroup = group;
    this.upstreamHandshakeMillis = handshakeNanos / 1_000_000;
  }

  void bytes(long toUpstream, long toDownstream) {
    this.bytesToUpstream = toUpstream;
    this.bytesToDownstream = toDownstream;
  }

  /**
   * The first reason recorded is the one that caused the close; later ones are consequences. Returns whether
   * {@code reason} was the first.
   */
  boolean closeReasonIfUnset(CloseReason reason, String detail) {
    if (closeReason == null) {
      closeReason = reason;
      closeDetail = detail;
      return true;
    }
    return false;
  }

  /** The first reason recorded, or null while none is. */
  CloseReason closeReason() {
    return closeReason;
  }

  void emit(long durationNanos) {
    if (!enabled) {
      return;
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("event", "connection");
    f.put("listener", listener);
    f.put("client", client);
    f.put("via", via);
    f.put("id", id);
    f.put("start", LineFormatter.timestamp(Instant.ofEpochMilli(startMillis)));
    f.put("sni", bounded(serverName));
    f.put("tls", downstreamTls);
    f.put("group", downstreamGroup);
    f.put("handshake_ms", handshakeMillis);
    f.put("peer", bounded(peerSubject));
    f.put("route", route);
    f.put("upstream", upstream);
    f.put("upstream_connect_ms", upstreamConnectMillis);
    f.put("upstream_tls", upstreamTls);
    f.put("upstream_group", upstreamGroup);
    f.put("upstream_handshake_ms", upstreamHandshakeMillis);
    f.put("bytes_to_upstream", bytesToUpstream);
    f.put("bytes_to_downstream", bytesToDownstream);
    f.put("duration_ms", durationNanos / 1_000_000);
    f.put("refused", bounded(refused));
    f.put("close", closeReason == null ? "unknown" : closeReason.label(closeDetail));
    f.values().removeIf(v -> v == null);
    LogRecord record = LineFormatter.structured(Level.INFO, "connection", text(f), f);
    record.setLoggerName(ACCESS.getName());
    ACCESS.log(record);
  }

  /** {@code connection listener=web ...}: the event is the line's first word, every other field a key=value. */
  private static String text(Map<String, Object> fields) {
    StringBuilder b = new StringBuilder(256).append("connection");
    fields.forEach((k, v) -> {
      if (!k.equals("event")) {
        b.append(' ').append(k).append('=');
        quoteIfNeeded(b, String.valueOf(v));
      }
    });
    return b.toString();
  }

  private static String bounded(String v) {
    return v == null || v.length() <= MAX_VALUE ? v : v.substring(0, MAX_VALUE);
  }

  private static void quoteIfNeeded(StringBuilder b, String v) {
    boolean quote = v.isEmpty();
    for (int i = 0; i < v.length() && !quote; i++) {
      char c = v.charAt(i);
      quote = c <= ' ' || c == '"' || c == '=' || c > '~';
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
