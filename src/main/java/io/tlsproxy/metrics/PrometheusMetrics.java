package io.tlsproxy.metrics;

import static io.tlsproxy.metrics.MetricNames.*;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tlsproxy.material.CertificateInUse;
import java.lang.management.ManagementFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Micrometer meters in a Prometheus registry; {@link #scrape(String)} serves them. */
public final class PrometheusMetrics implements ProxyMetrics, AutoCloseable {

  /** Handshakes take from about a millisecond on loopback to the 10 s default timeout. */
  private static final Duration[] HANDSHAKE_BUCKETS = {
      Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10)};

  private static final Duration[] CONNECTION_BUCKETS = {
      Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(10),
      Duration.ofMinutes(1), Duration.ofMinutes(10), Duration.ofHours(1), Duration.ofHours(6)};

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, ListenerMetrics> listeners = new ConcurrentHashMap<>();
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Map<String, List<Meter>> expiryGauges = new HashMap<>();

  public PrometheusMetrics(String version) {
    // Two of Micrometer's standard meters break Prometheus naming rules (promtool lints them): CPU time in
    // nanoseconds, and a gauge ending in _count. Publish CPU time in seconds and rename the gauge. File
    // descriptors get the names every Prometheus client library uses, which dashboards and alerts expect:
    // https://prometheus.io/docs/instrumenting/writing_clientlibs/#process-metrics
    registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        return switch (id.getName()) {
          case "system.cpu.count" -> id.withName("system.cpus");
          case "process.files.open" -> id.withName("process.open.fds").withBaseUnit(null);
          case "process.files.max" -> id.withName("process.max.fds").withBaseUnit(null);
          default -> id;
        };
      }
    });
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9)
          .description("CPU time used by the JVM process").baseUnit("seconds").register(registry);
    }
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    Gauge.builder(BUILD_INFO, () -> 1).description("tlsproxy build; the value is always 1")
        .tag(VERSION, version).register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text format, or OpenMetrics when {@code accept} asks for it. */
  public String scrape(String accept) {
    return accept != null && accept.contains("application/openmetrics-text")
        ? registry.scrape("application/openmetrics-text; version=1.0.0; charset=utf-8")
        : registry.scrape();
  }

  /** The content type that goes with {@link #scrape(String)} for the same {@code accept}. */
  public static String contentType(String accept) {
    return accept != null && accept.contains("application/openmetrics-text")
        ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
        : "text/plain; version=0.0.4; charset=utf-8";
  }

  @Override
  public ListenerMetrics listener(String name) {
    return listeners.computeIfAbsent(name, Bound::new);
  }

  @Override
  public synchronized void certificates(String listener, List<CertificateInUse> certificates) {
    List<Meter> old = expiryGauges.getOrDefault(listener, List.of());
    List<Meter> now = new ArrayList<>();
    for (CertificateInUse c : certificates) {
      X509Certificate cert = c.certificate();
      now.add(Gauge.builder(CERTIFICATE_EXPIRY, cert, x -> x.getNotAfter().getTime() / 1000.0)
          .description("notAfter of a certificate in use, as Unix time")
          .baseUnit("seconds")
          .tags(LISTENER, listener, ROLE, c.role(), SUBJECT, cert.getSubjectX500Principal().getName(),
              SERIAL, cert.getSerialNumber().toString(16))
          .register(registry));
    }
    old.stream().filter(m -> !now.contains(m)).forEach(registry::remove);
    expiryGauges.put(listener, now);
  }

  @Override
  public void reloaded(String listener, boolean success) {
    Counter.builder(RELOADS).description("attempts to reload certificate material, by result")
        .tags(LISTENER, listener, RESULT, success ? "success" : "failure").register(registry).increment();
  }

  /**
   * Publishes how long the start-up warm-up took and how many connection set-ups it drove. Its connections are
   * recorded elsewhere (never in this registry), so that they do not count as traffic.
   */
  public void warmedUp(Duration took, int setups) {
    Gauge.builder(WARMUP_DURATION, () -> took.toNanos() / 1e9)
        .description("how long the start-up warm-up took, before the proxy reported ready")
        .baseUnit("seconds").register(registry);
    Gauge.builder(WARMUP_CONNECTIONS, () -> setups)
        .description("connection set-ups the start-up warm-up drove over loopback; never counted as traffic")
        .register(registry);
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }

  /** One listener's meters; the ones with open-ended labels are looked up per event, the rest bound here. */
  private final class Bound implements ListenerMetrics {
    private final String listener;
    private final Counter connections;
    private final AtomicInteger active = new AtomicInteger();
    private final Timer connectionDuration;
    private final Counter toUpstream;
    private final Counter toDownstream;
    private final Map<String, AtomicInteger> endpointsUp = new ConcurrentHashMap<>();
    private final Map<RejectReason, Counter> rejected = new ConcurrentHashMap<>();
    /** One counter per reason, all registered at the listener's start, so that the hot path only looks up. */
    private final Map<CloseReason, Counter> closed = new EnumMap<>(CloseReason.class);
    private final Map<String, Counter> routes = new ConcurrentHashMap<>();

    Bound(String listener) {
      this.listener = listener;
      Tags tags = Tags.of(LISTENER, listener);
      connections = Counter.builder(CONNECTIONS).description("connections accepted").tags(tags)
          .register(registry);
      Gauge.builder(CONNECTIONS_ACTIVE, active, AtomicInteger::get).description("connections open now")
          .tags(tags).register(registry);
      connectionDuration = Timer.builder(CONNECTION_DURATION).description("how long connections stayed open")
          .serviceLevelObjectives(CONNECTION_BUCKETS).tags(tags).register(registry);
      toUpstream = Counter.builder(BYTES).description("bytes relayed").baseUnit("bytes")
          .tags(tags.and(DIRECTION, TO_UPSTREAM)).register(registry);
      toDownstream = Counter.builder(BYTES).description("bytes relayed").baseUnit("bytes")
          .tags(tags.and(DIRECTION, TO_DOWNSTREAM)).register(registry);
      for (CloseReason reason : CloseReason.values()) {
        closed.put(reason, Counter.builder(CONNECTIONS_CLOSED).description("connections closed, by close reason")
            .tags(tags.and(REASON, reason.label())).register(registry));
      }
      // Every reason from the start, at 0: an alert on its rate then works before the first rejection.
      for (RejectReason reason : List.of(RejectReason.MAX_CONNECTIONS, RejectReason.MAX_HANDSHAKE_RATE,
          RejectReason.ACCEPT_ERROR)) {
        rejectedCounter(reason);
      }
    }

    /**
     * The handshake meters, registered on first use (so that a side without TLS shows no empty histogram) and
     * then looked up here: registering through a builder on every handshake (tags sorted, histogram
     * configuration validated, registry searched) cost more than the rest of the metrics of a connection.
     */
    private final Map<Boolean, Timer> handshakeTimers = new ConcurrentHashMap<>();
    private final Map<HandshakeKey, Counter> handshakes = new ConcurrentHashMap<>();
    private final Map<HandshakeKey, Counter> handshakeFailures = new ConcurrentHashMap<>();

    /** Labels of a handshake counter; {@code cipher} and {@code resumed} are unused for failures. */
    private record HandshakeKey(boolean upstream, String protocolOrReason, String cipher, boolean resumed) {}

    private Timer handshakeTimer(boolean upstream) {
      return handshakeTimers.computeIfAbsent(upstream, up -> Timer.builder(HANDSHAKE_DURATION)
          .description("TLS handshake duration, successful or not").serviceLevelObjectives(HANDSHAKE_BUCKETS)
          .tags(LISTENER, listener, SIDE, up ? UPSTREAM : DOWNSTREAM).register(registry));
    }

    @Override
    public void handshakeSucceeded(boolean upstream, String protocol, String cipher, boolean resumed,
                                   long nanos) {
      handshakes.computeIfAbsent(new HandshakeKey(upstream, protocol, cipher, resumed), k ->
          Counter.builder(HANDSHAKES).description("successful TLS handshakes")
              .tags(LISTENER, listener, SIDE, k.upstream() ? UPSTREAM : DOWNSTREAM, PROTOCOL, k.protocolOrReason(),
                  CIPHER, k.cipher(), RESUMED, Boolean.toString(k.resumed()))
              .register(registry)).increment();
      handshakeTimer(upstream).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void handshakeFailed(boolean upstream, String reason, long nanos) {
      handshakeFailures.computeIfAbsent(new HandshakeKey(upstream, reason, "", false), k ->
          Counter.builder(HANDSHAKE_FAILURES).description("failed TLS handshakes by reason")
              .tags(LISTENER, listener, SIDE, k.upstream() ? UPSTREAM : DOWNSTREAM, REASON, k.protocolOrReason())
              .register(registry)).increment();
      handshakeTimer(upstream).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void connectionOpened() {
      connections.increment();
      active.incrementAndGet();
    }

    @Override
    public void connectionClosed(long nanos, CloseReason reason) {
      active.decrementAndGet();
      connectionDuration.record(nanos, TimeUnit.NANOSECONDS);
      if (reason != null) {
        closed.get(reason).increment();
      }
    }

    @Override
    public void bytesToUpstream(long n) {
      toUpstream.increment(n);
    }

    @Override
    public void bytesToDownstream(long n) {
      toDownstream.increment(n);
    }

    @Override
    public void routed(String route) {
      routes.computeIfAbsent(route, r -> Counter.builder(ROUTE_CONNECTIONS)
          .description("connections given to a route, by route")
          .tags(LISTENER, listener, ROUTE, r).register(registry)).increment();
    }

    @Override
    public void connectionRejected(RejectReason reason) {
      rejectedCounter(reason).increment();
    }

    private Counter rejectedCounter(RejectReason reason) {
      return rejected.computeIfAbsent(reason, r -> Counter.builder(CONNECTIONS_REJECTED)
          .description("connections closed before anything was forwarded, and failed accepts, by reason")
          .tags(LISTENER, listener, REASON, r.label()).register(registry));
    }

    @Override
    public void upstreamConnectFailed(String endpoint, String reason) {
      Counter.builder(UPSTREAM_CONNECT_FAILURES).description("failed upstream connection attempts")
          .tags(LISTENER, listener, ENDPOINT, endpoint, REASON, reason)
          .register(registry).increment();
    }

    @Override
    public void proxyProtocolFailed(String reason) {
      Counter.builder(PROXY_PROTOCOL_ERRORS).description("connections closed for a missing or bad PROXY header")
          .tags(LISTENER, listener, REASON, reason)
          .register(registry).increment();
    }

    @Override
    public void upstreamEndpointUp(String endpoint, boolean up) {
      endpointsUp.computeIfAbsent(endpoint, e -> {
        AtomicInteger value = new AtomicInteger();
        Gauge.builder(UPSTREAM_ENDPOINT_UP, value, AtomicInteger::get)
            .description("1 while active health checks find the endpoint healthy, else 0")
            .tags(LISTENER, listener, ENDPOINT, e).register(registry);
        return value;
      }).set(up ? 1 : 0);
    }

    @Override
    public void upstreamResolveFailed(String endpoint) {
      Counter.builder(UPSTREAM_RESOLVE_FAILURES)
          .description("failed resolutions of an endpoint's host name (its last good addresses stay in use)")
          .tags(LISTENER, listener, ENDPOINT, endpoint).register(registry).increment();
    }
  }
}
