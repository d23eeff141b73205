package io.tlsproxy.testkit;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real peer program (openssl, curl, another JVM) started by a test: its output collected line by line, waits
 * bounded by deadlines, and only this process ended, by its own handle.
 */
public final class ExternalProcess implements AutoCloseable {

  private final Process process;
  private final StringBuffer output = new StringBuffer();
  private final Thread reader;

  private ExternalProcess(Process process) {
    this.process = process;
    this.reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          output.append(line).append('\n');
        }
      } catch (IOException e) {
        // process ended
      }
    }, "process-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code command} in {@code dir} with stderr merged into stdout. */
  public static ExternalProcess start(Path dir, List<String> command) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    return new ExternalProcess(pb.start());
  }

  /**
   * Starts a server in the foreground and waits, polling its port, until it accepts on 127.0.0.1:{@code port};
   * if it does not within {@code timeout}, it is stopped and the failure names {@code what} with its output.
   */
  public static ExternalProcess startListening(Path dir, List<String> command, String what, int port,
                                               Duration timeout) throws Exception {
    ExternalProcess p = start(dir, command);
    try {
      Ports.awaitListening(what, port, timeout, p);
    } catch (AssertionError e) {
      p.close();
      throw e;
    }
    return p;
  }

  /** Whether {@code command} is an executable on the PATH, or in /usr/sbin (root's tools, off a user's PATH). */
  public static boolean onPath(String command) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, command))) {
        return true;
      }
    }
    return Files.isExecutable(Path.of("/usr/sbin", command));
  }

  public Process process() {
    return process;
  }

  public String output() {
    return output.toString();
  }

  public OutputStream stdin() {
    return process.getOutputStream();
  }

  /** Waits until the output contains {@code text}; fails with the output so far otherwise. */
  public void awaitOutput(String text, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!output.toString().contains(text)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("'" + text + "' not seen within " + timeout + "; output:\n" + output);
      }
      if (!process.isAlive() && !reader.isAlive() && !output.toString().contains(text)) {
        throw new AssertionError("process exited with " + process.exitValue() + " before '" + text
            + "'; output:\n" + output);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** Waits for the exit and returns its code; fails if it is still running after {@code timeout}. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("still running after " + timeout + "; output:\n" + output);
    }
    reader.join(timeout.toMillis());
    return process.exitValue();
  }

  /** Runs {@code command} to completion (bounded) and returns it for its output and exit code. */
  public static ExternalProcess run(Path dir, Duration timeout, String... command) throws Exception {
    ExternalProcess p = start(dir, List.of(command));
    p.stdin().close();
    p.awaitExit(timeout);
    return p;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    }
  }
}
