package io.tlsproxy.listen;

import java.time.Duration;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A warning that may repeat at the rate of a flood (every refused connection, every failed accept): logged the
 * first time, then at most once per interval, saying how many were left out in between.
 */
final class ThrottledLog {

  private final Logger log;
  private final long intervalNanos;
  private long lastNanos;
  private boolean logged;
  private long suppressed;

  ThrottledLog(Logger log, Duration interval) {
    this.log = log;
    this.intervalNanos = interval.toNanos();
  }

  /** Logs {@code message} unless a message was logged less than the interval ago. Thread-safe. */
  synchronized void warn(Supplier<String> message) {
    long now = System.nanoTime();
    if (logged && now - lastNanos < intervalNanos) {
      suppressed++;
      return;
    }
    String more = suppressed == 0 ? "" : " (" + suppressed + " more since the last report)";
    log.log(Level.WARNING, message.get() + more);
    logged = true;
    lastNanos = now;
    suppressed = 0;
  }
}
