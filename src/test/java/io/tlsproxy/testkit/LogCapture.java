package io.tlsproxy.testkit;

import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Captures what tlsproxy logs, so that tests can wait for a connection's closing line or a warning. */
public final class LogCapture extends Handler implements AutoCloseable {

  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Logger logger = Logger.getLogger("tlsproxy");
  /** Writes each record as a line; null: the level and the message. */
  private final Formatter lineFormat;

  /** Each record as its level and message, e.g. {@code INFO connection listener=web ...}. */
  public LogCapture() {
    this(null);
  }

  /** Each record as {@code lineFormat} writes it (without the line end), e.g. the product's JSON lines. */
  public LogCapture(Formatter lineFormat) {
    this.lineFormat = lineFormat;
    logger.addHandler(this);
  }

  @Override
  public void publish(LogRecord r) {
    lines.add(lineFormat == null ? r.getLevel() + " " + r.getMessage() : lineFormat.format(r).strip());
  }

  @Override
  public void flush() {
  }

  @Override
  public void close() {
    logger.removeHandler(this);
  }

  public List<String> lines() {
    return List.copyOf(lines);
  }

  /** Waits until a line matches, up to {@code timeout}; fails the test with what was logged otherwise. */
  public String await(Predicate<String> match, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (String l : lines) {
        if (match.test(l)) {
          return l;
        }
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new AssertionError("no matching log line within " + timeout + "; logged: " + lines);
  }

  /** The closing line of {@code client}'s connection to {@code listener}, told apart by its local port. */
  public String closingLine(String listener, java.net.Socket client) {
    return connectionLine(listener, "client=/127.0.0.1:" + client.getLocalPort() + " ");
  }

  /** The closing line of the first connection on {@code listener} whose line also contains {@code part}. */
  public String connectionLine(String listener, String part) {
    return await(l -> l.contains("connection listener=" + listener + " ") && l.contains(part),
        Duration.ofSeconds(15));
  }

  /** The closing line of the connection that {@code client} (a socket from 127.0.0.1) made to {@code listener}. */
  public String connectionLineOf(String listener, Socket client) {
    String prefix = "connection listener=" + listener + " client=/127.0.0.1:" + client.getLocalPort() + " ";
    return await(l -> l.contains(prefix), Duration.ofSeconds(15));
  }
}
