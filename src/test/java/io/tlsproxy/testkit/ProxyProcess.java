package io.tlsproxy.testkit;

import io.tlsproxy.tls.policy.PolicyResolver;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;

/**
 * tlsproxy run as its own JVM through {@code io.tlsproxy.Main}, with capped heap and direct memory, so that its
 * memory can be measured alone and signals reach it the way they reach a deployed proxy. Its standard error
 * (where it logs) is collected line by line.
 */
public final class ProxyProcess implements AutoCloseable {

  /** {@code host:port} or a Unix socket ({@code unix:/path}, {@code unix:@name}). */
  private static final Pattern LISTENING = Pattern.compile("listener (\\S+) listening on (\\S+) ");
  private static final Pattern ADMIN = Pattern.compile("admin listening on [^:\\s]+:(\\d+)");

  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread reader;

  private ProxyProcess(Process process) {
    this.process = process;
    this.reader = new Thread(this::collect, "proxy-process-stderr");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts the proxy on {@code yaml} (written into {@code dir}) with {@code -Xmx64m -XX:MaxDirectMemorySize=64m}
   * and waits until every listener in it has logged its port.
   */
  public static ProxyProcess start(Path dir, String yaml, int listeners) throws Exception {
    return start(dir, yaml, listeners, List.of());
  }

  /** As {@link #start(Path, String, int)}, with extra JVM options such as {@code -Djdk.net.hosts.file=FILE}. */
  public static ProxyProcess start(Path dir, String yaml, int listeners, List<String> jvmOptions) throws Exception {
    return start(dir, yaml, listeners, jvmOptions, Map.of());
  }

  /** As {@link #start(Path, String, int, List)}, with {@code env} added to the process's environment. */
  public static ProxyProcess start(Path dir, String yaml, int listeners, List<String> jvmOptions,
                                   Map<String, String> env) throws Exception {
    return start(dir, yaml, listeners, jvmOptions, env, List.of());
  }

  /**
   * As {@link #start(Path, String, int, List, Map)}, with the java command run by {@code launcher} (its arguments
   * follow it), e.g. a shell that changes a signal's disposition and then execs it, so that the PID stays the JVM's.
   */
  public static ProxyProcess start(Path dir, String yaml, int listeners, List<String> jvmOptions,
                                   Map<String, String> env, List<String> launcher) throws Exception {
    Path file = dir.resolve("tlsproxy-" + System.nanoTime() + ".yaml");
    Files.writeString(file, ProxyHarness.withEphemeralAdmin(yaml));
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    // The default engine the tests run under (the OpenSSL run sets it) goes to the child process too.
    List<String> command = new java.util.ArrayList<>(launcher);
    command.addAll(List.of(java.toString(), "-Xmx64m",
        "-XX:MaxDirectMemorySize=64m", "-Dtlsproxy.defaultEngine=" + PolicyResolver.defaultEngine()));
    command.addAll(jvmOptions);
    // SLF4J comes with test-only libraries (the Kubernetes model); the product has none, and without a provider it
    // prints a warning on standard error that the product never would.
    String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(entry -> !Path.of(entry).getFileName().toString().startsWith("slf4j-"))
        .collect(Collectors.joining(File.pathSeparator));
    command.addAll(List.of("-cp", classPath, "io.tlsproxy.Main", "--config",
        file.toString()));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    ProxyProcess p = new ProxyProcess(pb.start());
    try {
      p.await(l -> p.listening().size() >= listeners, Duration.ofSeconds(30));
    } catch (AssertionError | RuntimeException e) {
      p.close();
      throw e;
    }
    return p;
  }

  private void collect() {
    try (BufferedReader r = new BufferedReader(
        new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
      }
    } catch (IOException e) {
      // the process is gone
    }
  }

  private List<Matcher> listening() {
    return lines.stream().map(LISTENING::matcher).filter(Matcher::find).toList();
  }

  /** The port {@code listener} logged that it listens on. */
  public int port(String listener) {
    String address = address(listener);
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }

  /** Where {@code listener} logged that it listens: {@code host:port} or its Unix socket. */
  public String address(String listener) {
    return listening().stream().filter(m -> m.group(1).equals(listener)).findFirst()
        .map(m -> m.group(2))
        .orElseThrow(() -> new AssertionError("listener " + listener + " logged no address; logged: " + lines));
  }

  /**
   * The port the admin endpoint logged that it listens on. It binds after the listeners, so this waits up to a
   * few seconds for its line.
   */
  public int adminPort() {
    String line = awaitLine(Duration.ofSeconds(10), "admin listening on ");
    Matcher m = ADMIN.matcher(line);
    if (!m.find()) {
      throw new AssertionError("no port in the admin line: " + line);
    }
    return Integer.parseInt(m.group(1));
  }

  public long pid() {
    return process.pid();
  }

  /**
   * Skips the calling test when this process cannot receive SIGHUP: it inherited SIGHUP ignored from the test run
   * (a build started under nohup), and the JVM keeps it so. The proxy says so in a line at start.
   */
  public void assumeSighupReaches() {
    Assumptions.assumeFalse(lines.stream().anyMatch(l -> l.contains("SIGHUP is ignored in this process")),
        "the test run ignores SIGHUP (started under nohup?), so its processes do too");
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public List<String> lines() {
    return List.copyOf(lines);
  }

  /** Resident set size in bytes, from /proc (Linux). */
  public long rssBytes() throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS in /proc/" + pid() + "/status");
  }

  /**
   * Sends SIGTERM, the proxy's signal to drain and stop. Through the {@link ProcessHandle}: {@link Process#destroy()}
   * sends the same signal but also closes our end of the process's pipes, which would lose what it logs while it
   * drains.
   */
  public void terminate() {
    process.toHandle().destroy();
  }

  /** Waits up to {@code timeout} for the process to exit; returns its exit code, or null if it is still running. */
  public Integer waitForExit(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
  }

  /** Waits until the lines logged so far satisfy {@code match}, up to {@code timeout}. */
  public void await(Predicate<List<String>> match, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (match.test(lines)) {
        return;
      }
      if (!process.isAlive() && !reader.isAlive()) {
        break; // nothing more will be logged
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (!match.test(lines)) {
      throw new AssertionError("proxy process (alive=" + process.isAlive() + ") did not log the expected within "
          + timeout + "; logged: " + lines);
    }
  }

  /** The first logged line containing every one of {@code parts}, waiting up to {@code timeout}. */
  public String awaitLine(Duration timeout, String... parts) {
    Predicate<String> matches = l -> List.of(parts).stream().allMatch(l::contains);
    await(ls -> ls.stream().anyMatch(matches), timeout);
    return lines.stream().filter(matches).findFirst().orElseThrow();
  }

  /** Stops the process: SIGTERM, then SIGKILL if it has not exited after a few seconds. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      terminate();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    reader.join(5_000);
  }
}
