package io.tlsproxy.testkit;

import io.tlsproxy.Startup;
import io.tlsproxy.config.ConfigLoader;
import io.tlsproxy.config.ProxyConfig;
import io.tlsproxy.proxy.ProxyServer;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs tlsproxy inside the test JVM from a YAML text, the way Main does (same loader, same start-up), on
 * ephemeral ports ({@code listen: 127.0.0.1:0}).
 */
public final class ProxyHarness implements AutoCloseable {

  private final Vertx vertx;
  private final ProxyServer server;

  private ProxyHarness(Vertx vertx, ProxyServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  public static ProxyHarness start(Path dir, String yaml) throws Exception {
    Path file = dir.resolve("tlsproxy-" + System.nanoTime() + ".yaml");
    Files.writeString(file, yaml);
    Vertx vertx = Vertx.vertx();
    try {
      ProxyConfig config = ConfigLoader.load(vertx, file, Map.of());
      Startup.Plan plan = Startup.prepare(config, Clock.systemUTC());
      ProxyServer server = Startup.start(vertx, plan).toCompletionStage().toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      return new ProxyHarness(vertx, server);
    } catch (Exception | Error e) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      throw e;
    }
  }

  public int port(String listener) {
    return server.port(listener);
  }

  public ProxyServer server() {
    return server;
  }

  /** Writes a text file for a test config (e.g. a YAML snippet) into {@code dir}. */
  public static Path write(Path dir, String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
