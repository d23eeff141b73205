package io.tlsproxy.listen;

import io.netty.channel.Channel;
import io.tlsproxy.config.LimitsConfig;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.metrics.RejectReason;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * {@code maxHandshakesPerSecond}: lets TLS connections start their handshake at most at that rate, with bursts of
 * up to one second's worth, like HAProxy's {@code maxsslrate}. A connection over the rate has nothing read from
 * it (its ClientHello stays in the socket), so a flood costs the event loop no cryptography and established
 * connections on the same loop keep their pace.
 *
 * <p>The schedule is a token bucket kept as the time the next handshake may start (the "theoretical arrival time"
 * of the generic cell rate algorithm): each admitted connection moves it on by one interval. With
 * {@code overLimit: wait} a connection is given the next free turn, and waits for it unless that turn is further
 * away than the handshake timeout; then, and always with {@code refuse}, it is closed at once and counted.
 *
 * <p>Not thread-safe: a listener runs as one verticle instance, so all its connections, and this, are on one
 * event loop.
 */
final class HandshakeRateLimiter {

  private static final Logger LOG = Logger.getLogger("tlsproxy.proxy");

  private final String listener;
  private final int rate;
  private final long intervalNanos;
  /** How far the schedule may run ahead of now with no wait: the burst of one second's worth, less one. */
  private final long burstNanos;
  private final long maxWaitNanos;
  private final ListenerMetrics metrics;
  private final ThrottledLog log = new ThrottledLog(LOG, Duration.ofMinutes(1));
  private long nextStart = System.nanoTime();
  private volatile boolean stopped;

  HandshakeRateLimiter(String listener, LimitsConfig limits, Duration handshakeTimeout, ListenerMetrics metrics) {
    this.listener = listener;
    this.rate = limits.maxHandshakesPerSecond();
    this.intervalNanos = TimeUnit.SECONDS.toNanos(1) / rate;
    this.burstNanos = intervalNanos * (rate - 1);
    this.maxWaitNanos = limits.overLimit() == LimitsConfig.OverLimit.WAIT ? handshakeTimeout.toNanos() : 0;
    this.metrics = metrics;
  }

  /**
   * Runs {@code start} (which begins the handshake) now, or on {@code ch}'s event loop when its turn comes, or
   * closes {@code ch} when no turn is free soon enough. Called on the listener's event loop before anything was
   * read from {@code ch}.
   */
  void admit(Channel ch, Runnable start) {
    long now = System.nanoTime();
    long base = nextStart - now > 0 ? nextStart : now;
    long wait = Math.max(0, base - burstNanos - now);
    if (wait > maxWaitNanos) {
      metrics.connectionRejected(RejectReason.MAX_HANDSHAKE_RATE);
      log.warn(() -> "listener=" + listener + " over maxHandshakesPerSecond=" + rate
          + (maxWaitNanos == 0 ? "" : " for longer than the handshake timeout") + ": closing new connections");
      ch.close();
      return;
    }
    nextStart = base + intervalNanos;
    if (wait == 0) {
      start.run();
      return;
    }
    ch.config().setAutoRead(false);
    ch.eventLoop().schedule(() -> {
      if (stopped || !ch.isActive()) {
        ch.close();
        return;
      }
      ch.config().setAutoRead(true);
      start.run();
    }, wait, TimeUnit.NANOSECONDS);
  }

  /** The listener is stopping: connections still waiting for their turn are closed when it comes. Any thread. */
  void stop() {
    stopped = true;
  }
}
