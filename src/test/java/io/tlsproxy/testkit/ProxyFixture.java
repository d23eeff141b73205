package io.tlsproxy.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What an end-to-end test needs around the proxy it tests: a folder of its own, certificates minted into it,
 * backends on ephemeral ports, captured log lines, and the proxy started from a YAML snippet. Registered on a
 * static field,
 *
 * <pre>{@code
 * @RegisterExtension
 * static final ProxyFixture fx = ProxyFixture.create();
 * }</pre>
 *
 * it closes what it gave out when the scope that asked for it ends, the last opened first: what a
 * {@code @BeforeAll} method opens lives until the class's tests are done, what a test (or its {@code @BeforeEach})
 * opens is closed after that test. Each scope has its folder, deleted when the scope ends.
 */
public final class ProxyFixture implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
    AfterEachCallback {

  /** What one scope (the class, or one test) opened, and its folder once asked for. */
  private static final class Scope {
    final Deque<AutoCloseable> open = new ArrayDeque<>();
    Path dir;
  }

  /** The innermost scope first: the running test's, then the class's. */
  private final Deque<Scope> scopes = new ArrayDeque<>();
  private String className;
  private LogCapture logs;
  private Scope logsScope;

  private ProxyFixture() {
  }

  public static ProxyFixture create() {
    return new ProxyFixture();
  }

  /**
   * The current scope's folder, for certificates, configuration files and whatever else a test writes: the
   * class's in {@code @BeforeAll}, a fresh one for each test.
   */
  public synchronized Path dir() throws IOException {
    Scope scope = current();
    if (scope.dir == null) {
      scope.dir = Files.createTempDirectory(className + "-");
    }
    return scope.dir;
  }

  /** Mints certificates into {@link #dir()}. */
  public TestPki pki() throws IOException {
    return new TestPki(dir());
  }

  /** A plaintext backend that echoes every byte. */
  public TestServer echoBackend() throws IOException {
    return closing(TestServer.echo());
  }

  /** A plaintext backend that serves each connection with {@code behaviour}. */
  public TestServer backend(TestServer.Behaviour behaviour) throws IOException {
    return closing(TestServer.plain(behaviour));
  }

  /** A TLS backend presenting {@code cert} that echoes every byte. */
  public TestServer tlsEchoBackend(TestPki.Issued cert) throws IOException {
    return tlsBackend(cert, null, TestServer::echo);
  }

  /**
   * A TLS backend presenting {@code cert}; with a {@code clientCa} it requires a client certificate issued by it.
   */
  public TestServer tlsBackend(TestPki.Issued cert, TestPki.Issued clientCa, TestServer.Behaviour behaviour)
      throws IOException {
    return closing(TestServer.tls(TestPki.serverContext(cert, clientCa), clientCa != null, behaviour));
  }

  /**
   * The capture of what tlsproxy logs: the one already running, or a new one that runs until the end of the
   * current scope. Ask for it before starting the proxy to see what it logs while it starts.
   */
  public synchronized LogCapture logs() {
    if (logs == null) {
      logs = closing(new LogCapture());
      logsScope = current();
    }
    return logs;
  }

  /** Starts tlsproxy in this JVM on {@code yaml}, as {@link ProxyHarness#start} does, in {@link #dir()}. */
  public ProxyHarness start(String yaml) throws Exception {
    return closing(ProxyHarness.start(dir(), yaml));
  }

  /** Starts tlsproxy as its own JVM, as {@link ProxyProcess#start} does, and waits for {@code listeners} ports. */
  public ProxyProcess startProcess(String yaml, int listeners, String... jvmOptions) throws Exception {
    return closing(ProxyProcess.start(dir(), yaml, listeners, List.of(jvmOptions)));
  }

  /** Closes {@code resource} with the current scope. */
  public synchronized <T extends AutoCloseable> T closing(T resource) {
    current().open.push(resource);
    return resource;
  }

  private Scope current() {
    if (scopes.isEmpty()) {
      throw new IllegalStateException("the ProxyFixture is used outside a test, or not from a static field with "
          + "@RegisterExtension");
    }
    return scopes.peek();
  }

  /**
   * The {@code certificates:} key of a listener's {@code tls} section for {@code issued}, to put inside its braces:
   * {@code "tls: {%s, clientAuth: required}".formatted(certificates(cert))}.
   */
  public static String certificates(TestPki.Issued... issued) {
    return Arrays.stream(issued).map(i -> "{cert: " + i.certFile() + ", key: " + i.keyFile() + "}")
        .collect(Collectors.joining(", ", "certificates: [", "]"));
  }

  @Override
  public synchronized void beforeAll(ExtensionContext context) {
    className = context.getRequiredTestClass().getSimpleName();
    scopes.push(new Scope());
  }

  @Override
  public synchronized void beforeEach(ExtensionContext context) {
    current(); // fails early when the fixture is on an instance field, where beforeAll is not called
    scopes.push(new Scope());
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    closeScope();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    closeScope();
  }

  private void closeScope() throws Exception {
    Scope scope;
    synchronized (this) {
      scope = scopes.pop();
      if (logsScope == scope) {
        logs = null;
        logsScope = null;
      }
    }
    List<Exception> failures = new ArrayList<>();
    for (AutoCloseable resource : scope.open) {
      try {
        resource.close();
      } catch (Exception e) {
        failures.add(e);
      }
    }
    if (scope.dir != null) {
      try {
        deleteTree(scope.dir);
      } catch (IOException e) {
        failures.add(e);
      }
    }
    if (!failures.isEmpty()) {
      Exception first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      throw first;
    }
  }

  /** Deletes {@code root} and what is below it; symbolic links are deleted, not followed. */
  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
