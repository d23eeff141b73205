package io.tlsproxy.config;

import java.util.Locale;

/**
 * Overload protection of one listener.
 *
 * @param maxConnections         connections open at once, at most; 0 means no limit of its own (the open-file
 *                               limit of the process is then the limit)
 * @param maxHandshakesPerSecond TLS handshakes started per second, at most, with bursts of up to one second's
 *                               worth; 0 means no limit. Only for listeners that terminate TLS
 * @param overLimit              what happens to a connection that arrives over a limit
 */
public record LimitsConfig(int maxConnections, int maxHandshakesPerSecond, OverLimit overLimit) {

  /**
   * The highest handshake rate that can be set: the limiter spaces handshakes a whole number of nanoseconds apart
   * (one second divided by the rate), which stays within 0.1% of the rate up to a million per second; no process
   * comes near it.
   */
  public static final int MAX_HANDSHAKES_PER_SECOND = 1_000_000;

  /** No limits: what a listener without any of the keys gets. */
  public static final LimitsConfig NONE = new LimitsConfig(0, 0, OverLimit.WAIT);

  /** One line for {@code --check}, e.g. {@code maxConnections 1000, maxHandshakesPerSecond none, over a limit: wait}. */
  public String describe() {
    return "maxConnections " + (maxConnections == 0 ? "none" : maxConnections) + ", maxHandshakesPerSecond "
        + (maxHandshakesPerSecond == 0 ? "none" : maxHandshakesPerSecond) + ", over a limit: "
        + overLimit.name().toLowerCase(Locale.ROOT);
  }

  /** What a connection over a limit gets. */
  public enum OverLimit {
    /**
     * Waits: over {@code maxConnections} the listener stops accepting, so that new connections queue in the
     * kernel's accept backlog until one closes; over the handshake rate a connection waits for its turn as long
     * as the handshake timeout, and is closed if its turn would come later than that.
     */
    WAIT,
    /** Closed at once, before any byte is read from it or sent to it. */
    REFUSE
  }
}
