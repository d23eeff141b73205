package io.tlsproxy.warmup;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Drives the set-ups: a few lanes, each connecting to the warm-up listeners in turn, sending {@link Backend#REQUEST},
 * reading the whole {@link Backend#REPLY} and closing, until the count is reached or the deadline has passed.
 * Concurrent lanes make the proxy do what a burst of clients makes it do: several set-ups interleaved on a loop.
 */
final class Clients {

  /** Set-ups in flight at once. */
  static final int LANES = 16;

  /** One warm-up listener to connect to, and how. */
  record Target(int port, NetClient client) {
  }

  private final String host;
  private final List<Target> targets;
  private final int wanted;
  private final long deadlineNanos;
  private final AtomicInteger started = new AtomicInteger();
  private final AtomicInteger done = new AtomicInteger();
  private final Promise<Integer> finished = Promise.promise();
  private final AtomicInteger lanesLeft = new AtomicInteger(LANES);

  private Clients(String host, List<Target> targets, int wanted, long deadlineNanos) {
    this.host = host;
    this.targets = targets;
    this.wanted = wanted;
    this.deadlineNanos = deadlineNanos;
  }

  /** A client for {@code mirror}: TLS without verification (the proxy is ours) and a client certificate if asked. */
  static NetClient client(Vertx vertx, Mirror mirror, ThrowawayPki pki) {
    NetClientOptions options = new NetClientOptions().setConnectTimeout(5_000);
    if (mirror.clientTls()) {
      options.setSsl(true).setTrustAll(true).setHostnameVerificationAlgorithm("");
      if (OpenSSLEngineOptions.isAvailable()) {
        // No session cache: each set-up is a full handshake, as for a burst of new clients.
        options.setSslEngineOptions(new OpenSSLEngineOptions().setSessionCacheEnabled(false));
      }
      if (mirror.clientCert()) {
        options.setKeyCertOptions(new PemKeyCertOptions().setCertValue(Buffer.buffer(pki.client().cert()))
            .setKeyValue(Buffer.buffer(pki.client().key())));
      }
    }
    return vertx.createNetClient(options);
  }

  /**
   * Runs up to {@code wanted} set-ups over {@code targets} until {@code deadlineNanos} ({@link System#nanoTime()});
   * completes with how many were done, or fails with the first set-up that failed.
   */
  static Future<Integer> run(String host, List<Target> targets, int wanted, long deadlineNanos) {
    Clients c = new Clients(host, targets, wanted, deadlineNanos);
    for (int i = 0; i < LANES; i++) {
      c.next();
    }
    return c.finished.future();
  }

  private void next() {
    int n = started.getAndIncrement();
    if (n >= wanted || System.nanoTime() - deadlineNanos >= 0 || finished.future().isComplete()) {
      if (lanesLeft.decrementAndGet() == 0) {
        finished.tryComplete(done.get());
      }
      return;
    }
    Target t = targets.get(n % targets.size());
    t.client().connect(t.port(), host).onComplete(ar -> {
      if (ar.failed()) {
        finished.tryFail(ar.cause());
        return;
      }
      exchange(ar.result());
    });
  }

  private void exchange(NetSocket socket) {
    int[] received = {0};
    socket.handler(data -> {
      received[0] += data.length();
      if (received[0] >= Backend.REPLY.length()) {
        socket.handler(null);
        // The next set-up does not wait for the close to complete (a TLS close waits for its close_notify).
        socket.close();
        done.incrementAndGet();
        next();
      }
    });
    socket.closeHandler(v -> {
      if (received[0] < Backend.REPLY.length()) {
        finished.tryFail("a warm-up connection closed after " + received[0] + " of " + Backend.REPLY.length()
            + " reply bytes");
      }
    });
    socket.exceptionHandler(finished::tryFail);
    socket.write(Backend.REQUEST.copy());
  }
}
