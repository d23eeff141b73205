package io.tlsproxy.testkit;

import io.tlsproxy.Main;
import io.tlsproxy.Startup;
import io.tlsproxy.config.ConfigLoader;
import io.tlsproxy.config.ProxyConfig;
import io.tlsproxy.listen.ProxyServer;
import io.tlsproxy.metrics.PrometheusMetrics;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs tlsproxy inside the test JVM from a YAML text, the way Main does (same loader, same start-up), on
 * ephemeral ports ({@code listen: 127.0.0.1:0}).
 */
public final class ProxyHarness implements AutoCloseable {

  private final Vertx vertx;
  private final Startup.Running running;
  private final PrometheusMetrics metrics;
  private final AtomicInteger quitRequests;

  private ProxyHarness(Vertx vertx, Startup.Running running, PrometheusMetrics metrics, AtomicInteger quitRequests) {
    this.vertx = vertx;
    this.running = running;
    this.metrics = metrics;
    this.quitRequests = quitRequests;
  }

  /** Starts {@code yaml}; without an {@code admin:} key the admin endpoint gets an ephemeral port too. */
  public static ProxyHarness start(Path dir, String yaml) throws Exception {
    Path file = dir.resolve("tlsproxy-" + System.nanoTime() + ".yaml");
    Files.writeString(file, withEphemeralAdmin(yaml));
    // As Main does: the native epoll transport where it loads (Unix sockets need it), else NIO.
    Vertx vertx = Vertx.vertx(Main.vertxOptions());
    try {
      ProxyConfig config = ConfigLoader.load(vertx, file, Map.of());
      Startup.Plan plan = Startup.prepare(config, Clock.systemUTC());
      PrometheusMetrics metrics = new PrometheusMetrics("test");
      AtomicInteger quitRequests = new AtomicInteger();
      Startup.Running running = Startup.start(vertx, plan, metrics, quitRequests::incrementAndGet)
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      return new ProxyHarness(vertx, running, metrics, quitRequests);
    } catch (Exception | Error e) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      throw e;
    }
  }

  public int port(String listener) {
    return running.proxy().port(listener);
  }

  public ProxyServer server() {
    return running.proxy();
  }

  /** Reloads certificate material now, as SIGHUP does; returns how many listeners got new material. */
  public int reloadCertificates() throws Exception {
    return running.reloadCertificates().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  public int adminPort() {
    return running.admin().port();
  }

  public PrometheusMetrics metrics() {
    return metrics;
  }

  /** How often the admin endpoint has asked to stop the proxy ({@code POST /quitquitquit}); here nothing stops. */
  public int quitRequests() {
    return quitRequests.get();
  }

  /** Adds {@code admin: {listen: 127.0.0.1:0}} to a config that does not say where the admin endpoint goes. */
  public static String withEphemeralAdmin(String yaml) {
    String out = yaml.contains("admin:") ? yaml : "admin: {listen: 127.0.0.1:0}\n" + yaml;
    // Tests start a few hundred proxies: the start-up warm-up would add a second or more to each. Tests of the
    // warm-up itself say warmup: in their configuration.
    return out.contains("warmup:") ? out : "warmup: {enabled: false}\n" + out;
  }

  /** Writes a text file for a test config (e.g. a YAML snippet) into {@code dir}. */
  public static Path write(Path dir, String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }

  @Override
  public void close() throws Exception {
    metrics.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
