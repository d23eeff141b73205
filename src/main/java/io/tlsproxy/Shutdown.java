package io.tlsproxy;

import io.tlsproxy.config.ShutdownConfig;
import io.tlsproxy.listen.ProxyServer;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The one way a running proxy stops: drain, close Vert.x, exit 0. Started by SIGTERM, SIGINT or the admin
 * endpoint's {@code POST /quitquitquit}, whichever comes first; later requests are ignored. A request that
 * arrives before the proxy is attached (the admin endpoint is up a moment before start-up returns) is carried
 * out on attach.
 */
final class Shutdown {

  private static final Logger LOG = Logger.getLogger("tlsproxy");

  private final Vertx vertx;
  private final ShutdownConfig config;
  private ProxyServer server;
  private String requestedBy;
  private boolean started;

  Shutdown(Vertx vertx, ShutdownConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  /** The running proxy to drain; runs a shutdown requested before now. */
  synchronized void attach(ProxyServer server) {
    this.server = server;
    if (requestedBy != null) {
      begin();
    }
  }

  /**
   * Asks for a shutdown; returns at once (it may be called on an event loop). The drain runs on a thread of its
   * own, and the process exits when it is done.
   */
  synchronized void request(String by) {
    if (requestedBy != null) {
      return;
    }
    requestedBy = by;
    if (server != null) {
      begin();
    }
  }

  private void begin() {
    if (started) {
      return;
    }
    started = true;
    Thread t = new Thread(this::drainAndExit, "tlsproxy-shutdown");
    t.setDaemon(false);
    t.start();
  }

  private void drainAndExit() {
    long ms = config.drainTimeout().toMillis();
    LOG.info(requestedBy + ": draining, open connections: " + server.openConnections() + ", up to " + ms
        + " ms" + (config.acceptDuringDrain() ? ", still accepting until then (acceptDuringDrain)" : ""));
    try {
      server.drain(config.drainTimeout(), config.acceptDuringDrain()).toCompletionStage().toCompletableFuture()
          .get(ms + 15_000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warning("drain did not finish cleanly: " + e);
    }
    vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
        .exceptionally(t -> null).join();
    LOG.info("stopped");
    System.exit(0); // a drain that ran is a clean stop, whatever it had to cut
  }
}
