package io.tlsproxy.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
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
 * opens is closed after that test. The folder and everything in it are deleted after the class.
 */
public final class ProxyFixture implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
    AfterEachCallback {

  /** The innermost scope first: the running test's, then the class's. */
  private final Deque<Deque<AutoCloseable>> scopes = new ArrayDeque<>();
  private Path dir;
  private TestPki pki;
  private LogCapture logs;
  private int logsScope;

  private ProxyFixture() {
  }

  public static ProxyFixture create() {
    return new ProxyFixture();
  }

  /** The class's folder: certificates, configuration files and whatever else a test writes. */
  public Path dir() {
    if (dir == null) {
      throw new IllegalStateException("register the ProxyFixture on a static field with @RegisterExtension");
    }
    return dir;
  }

  /** Mints certificates into {@link #dir()}. */
  public TestPki pki() {
    if (pki == null) {
      pki = new TestPki(dir());
    }
    return pki;
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
      logsScope = scopes.size();
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
    if (scopes.isEmpty()) {
      throw new IllegalStateException("the ProxyFixture is used outside a test; register it on a static field");
    }
    scopes.peek().push(resource);
    return resource;
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
  public void beforeAll(ExtensionContext context) throws IOException {
    dir = Files.createTempDirectory(context.getRequiredTestClass().getSimpleName() + "-");
    scopes.push(new ArrayDeque<>());
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    dir(); // fails early when the fixture is on an instance field and beforeAll never ran
    scopes.push(new ArrayDeque<>());
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    closeScope();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    try {
      closeScope();
    } finally {
      deleteTree(dir);
      dir = null;
      pki = null;
    }
  }

  private void closeScope() throws Exception {
    Deque<AutoCloseable> open;
    synchronized (this) {
      if (logsScope == scopes.size()) {
        logs = null;
      }
      open = scopes.pop();
    }
    Exception first = null;
    for (AutoCloseable resource : open) {
      try {
        resource.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** Deletes {@code root} and what is below it; symbolic links are deleted, not followed. */
  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
