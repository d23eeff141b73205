package io.tlsproxy.log;

import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * One line per record. Text: {@code 2026-12-06T03:09:13.123Z INFO tlsproxy message}. JSON: one object per line with
 * {@code ts} (RFC 3339, UTC), {@code level}, {@code logger} and {@code msg}, and for a record made by
 * {@link #structured} its fields as typed values (numbers stay numbers). A stack trace, logged only at debug level,
 * follows the message in text and is the {@code exception} field in JSON.
 */
public final class LineFormatter extends Formatter {

  private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
      .withZone(ZoneOffset.UTC);

  /** {@code t} as every line writes time: RFC 3339 in UTC with milliseconds, {@code 2026-12-06T03:09:13.123Z}. */
  public static String timestamp(Instant t) {
    return TS.format(t);
  }

  private final boolean json;

  public LineFormatter(boolean json) {
    this.json = json;
  }

  /**
   * A record whose text line is {@code text} and whose JSON line carries {@code fields} (in order, nulls left out)
   * after {@code ts}, {@code level}, {@code logger} and {@code msg}.
   */
  public static LogRecord structured(Level level, String msg, String text,
                                     Map<String, Object> fields) {
    LogRecord r = new LogRecord(level, text);
    r.setParameters(new Object[] {new Structured(msg, fields)});
    return r;
  }

  private record Structured(String msg, Map<String, Object> fields) {
  }

  @Override
  public String format(LogRecord r) {
    Structured s = r.getParameters() != null && r.getParameters().length == 1
        && r.getParameters()[0] instanceof Structured st ? st : null;
    String ts = timestamp(r.getInstant());
    String level = label(r.getLevel());
    if (!json) {
      String msg = s != null ? r.getMessage() : formatMessage(r);
      return ts + ' ' + level.toUpperCase(Locale.ROOT) + ' ' + r.getLoggerName() + ' ' + msg
          + (r.getThrown() == null ? "" : System.lineSeparator() + stackTrace(r.getThrown()))
          + System.lineSeparator();
    }
    JsonObject line = new JsonObject().put("ts", ts).put("level", level).put("logger", r.getLoggerName());
    if (s != null) {
      line.put("msg", s.msg());
      s.fields().forEach((k, v) -> {
        if (v != null) {
          line.put(k, v);
        }
      });
    } else {
      line.put("msg", formatMessage(r));
    }
    if (r.getThrown() != null) {
      line.put("exception", stackTrace(r.getThrown()));
    }
    return line.encode() + System.lineSeparator();
  }

  /** debug, info, warn or error: below INFO is debug, above WARNING is error. */
  static String label(Level level) {
    int v = level.intValue();
    return v < Level.INFO.intValue() ? "debug" : v < Level.WARNING.intValue() ? "info"
        : v < Level.SEVERE.intValue() ? "warn" : "error";
  }

  private static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString().stripTrailing();
  }
}
