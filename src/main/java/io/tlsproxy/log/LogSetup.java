package io.tlsproxy.log;

import io.tlsproxy.config.LoggingConfig;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Puts one handler on the root logger that writes {@link LineFormatter} lines to standard error. Called once
 * before the configuration is read (so that its errors are logged), and again with the configured level and
 * format. An operator's own {@code java.util.logging.config.file} is left alone.
 */
public final class LogSetup {

  /** The environment variable that sets the level, ahead of the configuration. */
  public static final String LEVEL_ENV = "TLSPROXY_LOG_LEVEL";

  private LogSetup() {
  }

  /** The java.util.logging level of {@code level}. */
  public static Level julLevel(LoggingConfig.Level level) {
    return switch (level) {
      case DEBUG -> Level.FINE;
      case INFO -> Level.INFO;
      case WARN -> Level.WARNING;
      case ERROR -> Level.SEVERE;
    };
  }

  /** Whether an operator's own logging configuration file is in charge (then this class changes nothing). */
  public static boolean external() {
    return System.getProperty("java.util.logging.config.file") != null;
  }

  /** Logs at {@code level} as {@code json} lines or text from now on. */
  public static void apply(LoggingConfig.Level level, boolean json) {
    if (external()) {
      return;
    }
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler console = new ConsoleHandler();
    console.setFormatter(new LineFormatter(json));
    console.setLevel(julLevel(level));
    root.addHandler(console);
    root.setLevel(julLevel(level));
  }
}
