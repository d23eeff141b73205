package io.tlsproxy.config;

/** How the per-connection access line is written. */
public record LoggingConfig(Format format) {
  public static final LoggingConfig DEFAULT = new LoggingConfig(Format.TEXT);

  /** logfmt-style text, or one JSON object per line for log pipelines. */
  public enum Format { TEXT, JSON }
}
