package io.tlsproxy.config;

import java.util.Locale;

/**
 * How the process logs.
 *
 * @param format text lines, or one JSON object per line for log pipelines
 * @param level  the least severe level written; null where the configuration does not say (then {@code info}, or
 *               the environment's {@code TLSPROXY_LOG_LEVEL}, which wins either way)
 * @param access whether each connection's closing line is written (nginx's {@code access_log off} when false)
 */
public record LoggingConfig(Format format, Level level, boolean access) {
  public static final LoggingConfig DEFAULT = new LoggingConfig(Format.TEXT, null, true);

  /** logfmt-style text, or one JSON object per line for log pipelines. */
  public enum Format { TEXT, JSON }

  /** The levels an operator chooses from, least severe first. */
  public enum Level {
    DEBUG, INFO, WARN, ERROR;

    /** {@code debug}, {@code info}, {@code warn} or {@code error}, in any case; null for anything else. */
    public static Level parse(String name) {
      if (name == null) {
        return null;
      }
      return switch (name.trim().toLowerCase(Locale.ROOT)) {
        case "debug" -> DEBUG;
        case "info" -> INFO;
        case "warn" -> WARN;
        case "error" -> ERROR;
        default -> null;
      };
    }
  }
}
