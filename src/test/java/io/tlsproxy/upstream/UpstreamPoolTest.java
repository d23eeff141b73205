package io.tlsproxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.HealthCheckConfig;
import io.tlsproxy.config.HostPort;
import io.tlsproxy.config.UpstreamConfig;
import io.tlsproxy.config.UpstreamConfig.Balance;
import io.tlsproxy.metrics.PrometheusMetrics;
import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Scrape;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Choosing endpoints: balance modes, skipping unhealthy ones, and following a name whose addresses change. */
class UpstreamPoolTest {

  private static final HealthCheckConfig ONE_STRIKE =
      new HealthCheckConfig(Duration.ofSeconds(1), Duration.ofMillis(500), 1, 1, false);

  private final List<Vertx> started = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (Vertx v : started) {
      v.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static UpstreamConfig upstream(Balance balance, Duration ttl, String... endpoints) {
    return new UpstreamConfig(List.of(endpoints).stream().map(HostPort::parse).toList(), balance,
        Duration.ofSeconds(1), null, UpstreamConfig.ProxyProtocolVersion.OFF, ttl, null,
        List.of());
  }

  private static UpstreamPool pool(Balance balance, String... endpoints) {
    return new UpstreamPool("t", upstream(balance, Duration.ofSeconds(30), endpoints),
        io.tlsproxy.metrics.ListenerMetrics.NONE, UpstreamPool.SYSTEM);
  }

  private static List<String> order(UpstreamPool pool) {
    return pool.order().result().stream().map(UpstreamTarget::toString).toList();
  }

  private static UpstreamTarget target(UpstreamPool pool, String endpoint) {
    return pool.allTargets().stream().filter(t -> t.toString().equals(endpoint)).findFirst().orElseThrow();
  }

  private static void markUnhealthy(UpstreamTarget t) {
    t.startCheck();
    t.endCheck(false, ONE_STRIKE);
  }

  @Test
  void failoverTriesEndpointsInConfiguredOrderEveryTime() {
    UpstreamPool p = pool(Balance.FAILOVER, "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    for (int i = 0; i < 3; i++) {
      assertEquals(List.of("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"), order(p));
    }
  }

  @Test
  void roundRobinStartsAtTheNextEndpointEachTime() {
    UpstreamPool p = pool(Balance.ROUND_ROBIN, "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    List<String> firsts = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      firsts.add(order(p).get(0));
    }
    assertEquals(List.of("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.1:80", "10.0.0.2:80",
        "10.0.0.3:80"), firsts);
  }

  @Test
  void unhealthyEndpointsAreSkippedWhileAnotherIsHealthy() {
    UpstreamPool p = pool(Balance.FAILOVER, "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    markUnhealthy(target(p, "10.0.0.1:80"));
    assertEquals(List.of("10.0.0.2:80", "10.0.0.3:80"), order(p));
    assertTrue(p.anyHealthy());
  }

  @Test
  void whenEveryEndpointIsUnhealthyAllAreStillTried() {
    UpstreamPool p = pool(Balance.FAILOVER, "10.0.0.1:80", "10.0.0.2:80");
    p.allTargets().forEach(UpstreamPoolTest::markUnhealthy);
    assertEquals(List.of("10.0.0.1:80", "10.0.0.2:80"), order(p));
    assertFalse(p.anyHealthy());
  }

  @Test
  void healthyThresholdMustBeReachedBeforeAnEndpointComesBack() {
    HealthCheckConfig cfg = new HealthCheckConfig(Duration.ofSeconds(1), Duration.ofMillis(500), 2, 3, false);
    UpstreamTarget t = new UpstreamTarget(HostPort.parse("10.0.0.1:80"), null);
    assertFalse(check(t, false, cfg));
    assertTrue(t.healthy(), "one failure is below unhealthyThreshold 2");
    assertTrue(check(t, false, cfg), "second failure reaches unhealthyThreshold 2");
    assertFalse(t.healthy());
    check(t, true, cfg);
    check(t, true, cfg);
    check(t, false, cfg); // a failure restarts the count
    check(t, true, cfg);
    check(t, true, cfg);
    assertFalse(t.healthy(), "two passes after a failure are not the three required");
    assertTrue(check(t, true, cfg));
    assertTrue(t.healthy());
  }

  private static boolean check(UpstreamTarget t, boolean ok, HealthCheckConfig cfg) {
    assertTrue(t.startCheck());
    return t.endCheck(ok, cfg);
  }

  @Test
  void leastConnectionsPrefersFewerOpenConnectionsAndRotatesTies() {
    UpstreamPool p = pool(Balance.LEAST_CONNECTIONS, "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    UpstreamTarget a = target(p, "10.0.0.1:80");
    UpstreamTarget b = target(p, "10.0.0.2:80");
    p.acquire(a);
    p.acquire(a);
    p.acquire(b);
    for (int i = 0; i < 3; i++) {
      assertEquals(List.of("10.0.0.3:80", "10.0.0.2:80", "10.0.0.1:80"), order(p));
    }
    p.release(a);
    p.release(a);
    p.release(b);
    List<String> firsts = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      firsts.add(order(p).get(0));
    }
    assertEquals(3, firsts.stream().distinct().count(), "ties go round-robin: " + firsts);
  }

  @Test
  void nameIsReResolvedAfterItsTtlAndSpreadOverItsAddresses() throws Exception {
    AtomicReference<List<String>> answer = new AtomicReference<>(List.of("10.1.0.1"));
    UpstreamPool.Resolver resolver = host -> {
      List<InetAddress> out = new ArrayList<>();
      for (String a : answer.get()) {
        out.add(InetAddress.getByAddress(host, InetAddress.getByName(a).getAddress()));
      }
      return out;
    };
    UpstreamPool p = new UpstreamPool("t", upstream(Balance.ROUND_ROBIN, Duration.ofMillis(100),
        "svc.test:80"), io.tlsproxy.metrics.ListenerMetrics.NONE, resolver);
    start(p);
    assertEquals(List.of("svc.test:80@10.1.0.1"), order(p));
    answer.set(List.of("10.1.0.2", "10.1.0.3"));
    Await.until("the new addresses are used", Duration.ofSeconds(5),
        () -> !order(p).get(0).endsWith("10.1.0.1"));
    List<String> firsts = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      firsts.add(order(p).get(0));
    }
    assertEquals(2, firsts.stream().distinct().count(), "both addresses take turns: " + firsts);
  }

  @Test
  void failedResolutionKeepsTheLastGoodAddressesAndIsCounted() throws Exception {
    AtomicReference<String> answer = new AtomicReference<>("10.1.0.1");
    UpstreamPool.Resolver resolver = host -> {
      String a = answer.get();
      if (a == null) {
        throw new UnknownHostException(host + ": test resolver knows no answer");
      }
      return List.of(InetAddress.getByName(a));
    };
    try (PrometheusMetrics metrics = new PrometheusMetrics("test")) {
      UpstreamPool p = new UpstreamPool("t", upstream(Balance.FAILOVER, Duration.ofMillis(50), "svc.test:80"),
          metrics.listener("t"), resolver);
      start(p);
      answer.set(null);
      Await.until("a failed resolution is counted", Duration.ofSeconds(5), () -> new Scrape(metrics.scrape(null))
          .sum("tlsproxy_upstream_resolve_failures_total", "listener", "t", "endpoint", "svc.test:80") >= 2);
      assertEquals(List.of("svc.test:80@10.1.0.1"), order(p));
    }
  }

  @Test
  void zeroTtlResolvesForEveryConnection() throws Exception {
    AtomicReference<String> answer = new AtomicReference<>("10.1.0.1");
    UpstreamPool p = new UpstreamPool("t", upstream(Balance.FAILOVER, Duration.ZERO, "svc.test:80"),
        io.tlsproxy.metrics.ListenerMetrics.NONE, host -> List.of(InetAddress.getByName(answer.get())));
    start(p);
    answer.set("10.1.0.9");
    List<UpstreamTarget> next = p.order().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals("svc.test:80@10.1.0.9", next.get(0).toString());
  }

  private void start(UpstreamPool p) throws Exception {
    Vertx vertx = Vertx.vertx();
    started.add(vertx);
    var done = new java.util.concurrent.CompletableFuture<Void>();
    vertx.runOnContext(v -> p.start(vertx, new Dialer(vertx), null).onComplete(ar -> done.complete(null)));
    done.get(10, TimeUnit.SECONDS);
    Map<HostPort, List<UpstreamTarget>> t = p.targets();
    assertTrue(t.values().stream().flatMap(List::stream).allMatch(x -> x.address() != null), "resolved: " + t);
  }
}
