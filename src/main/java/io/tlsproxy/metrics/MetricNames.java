package io.tlsproxy.metrics;

/**
 * Metric names and labels: public API, documented in docs/metrics.md. Micrometer writes them in Prometheus form
 * (dots become underscores, counters get {@code _total}, timers {@code _seconds}).
 */
public final class MetricNames {

  public static final String HANDSHAKES = "tlsproxy.tls.handshakes";
  public static final String HANDSHAKE_FAILURES = "tlsproxy.tls.handshake.failures";
  public static final String HANDSHAKE_DURATION = "tlsproxy.tls.handshake.duration";
  public static final String CERTIFICATE_EXPIRY = "tlsproxy.tls.certificate.expiry.timestamp";
  public static final String CONNECTIONS = "tlsproxy.connections";
  public static final String CONNECTIONS_ACTIVE = "tlsproxy.connections.active";
  public static final String CONNECTIONS_REJECTED = "tlsproxy.connections.rejected";
  public static final String CONNECTIONS_CLOSED = "tlsproxy.connections.closed";
  public static final String CONNECTION_DURATION = "tlsproxy.connection.duration";
  public static final String BYTES = "tlsproxy.bytes";
  public static final String UPSTREAM_CONNECT_FAILURES = "tlsproxy.upstream.connect.failures";
  public static final String UPSTREAM_ENDPOINT_UP = "tlsproxy.upstream.endpoint.up";
  public static final String UPSTREAM_RESOLVE_FAILURES = "tlsproxy.upstream.resolve.failures";
  public static final String BUILD_INFO = "tlsproxy.build.info";
  public static final String RELOADS = "tlsproxy.tls.reloads";
  public static final String PROXY_PROTOCOL_ERRORS = "tlsproxy.proxy.protocol.errors";
  public static final String ROUTE_CONNECTIONS = "tlsproxy.route.connections";
  public static final String WARMUP_DURATION = "tlsproxy.warmup.duration";
  public static final String WARMUP_CONNECTIONS = "tlsproxy.warmup.connections";

  public static final String LISTENER = "listener";
  public static final String SIDE = "side";
  public static final String PROTOCOL = "protocol";
  public static final String CIPHER = "cipher";
  public static final String RESUMED = "resumed";
  public static final String REASON = "reason";
  public static final String ROLE = "role";
  public static final String SUBJECT = "subject";
  public static final String SERIAL = "serial";
  public static final String DIRECTION = "direction";
  public static final String ENDPOINT = "endpoint";
  public static final String VERSION = "version";
  public static final String RESULT = "result";
  public static final String ROUTE = "route";

  public static final String DOWNSTREAM = "downstream";
  public static final String UPSTREAM = "upstream";
  public static final String TO_UPSTREAM = "to_upstream";
  public static final String TO_DOWNSTREAM = "to_downstream";


  private MetricNames() {
  }
}
