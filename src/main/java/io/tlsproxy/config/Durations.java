package io.tlsproxy.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as the configuration writes them: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, or {@code 0}. */
public final class Durations {

  private static final Pattern FORMAT = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  /**
   * The longest duration any key takes. Longer ones are typing mistakes, and far longer ones would overflow the
   * timers they feed (nanoseconds in a long last 292 years) when the proxy is already running.
   */
  public static final Duration MAX = Duration.ofDays(365);

  private Durations() {
  }

  /** Parses a duration from 0 to {@link #MAX}; throws {@link IllegalArgumentException} with a fix. */
  public static Duration parse(String text) {
    String s = text.trim();
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = FORMAT.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a duration such as 500ms, 10s, 5m, 1h or 14d, got '" + text
          + "'");
    }
    long unitMillis = switch (m.group(2)) {
      case "ms" -> 1;
      case "s" -> 1000;
      case "m" -> 60_000;
      case "h" -> 3_600_000;
      default -> 86_400_000;
    };
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      n = Long.MAX_VALUE; // more digits than a long holds
    }
    if (n > MAX.toMillis() / unitMillis) {
      throw new IllegalArgumentException(s + " is out of range; give at most " + format(MAX));
    }
    return Duration.ofMillis(n * unitMillis);
  }

  /** The inverse of {@link #parse}, in the largest unit that is exact. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms == 0) {
      return "0";
    }
    if (ms % 86_400_000 == 0) {
      return ms / 86_400_000 + "d";
    }
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
