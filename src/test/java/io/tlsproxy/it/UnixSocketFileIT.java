package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.ConfigException;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.UnixClients;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The socket file of a {@code unix:} listener: its mode, a stale file replaced, a live one or a file of another
 * type refused naming the key, the file gone after SIGTERM of a real process, and a one-line error without the
 * native transport.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UnixSocketFileIT {

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private Path dir;
  private TestServer backend;

  @BeforeAll
  void start() throws Exception {
    dir = fx.dir();
    backend = fx.backend(TestServer.http("backend"));
  }

  private String yaml(Path socket, String extra) {
    return """
        listeners:
          - name: web
            listen: unix:%s
            upstream: {endpoints: [127.0.0.1:%d]}
        %s""".formatted(socket, backend.port(), extra == null ? "" : "    " + extra + "\n");
  }

  /** A socket file left behind: bound, then closed without being removed (as a killed process leaves it). */
  private static void leaveStaleSocket(Path file) throws Exception {
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of(file));
    }
    assertTrue(Files.exists(file, LinkOption.NOFOLLOW_LINKS), "the JDK leaves the file of a closed socket");
  }

  private static String mode(Path file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void socketFileGetsTheDefaultMode0660() throws Exception {
    Path file = dir.resolve("default-mode.sock");
    fx.start(yaml(file, null));
    assertEquals("rw-rw----", mode(file));
    assertEquals("backend", UnixClients.curl(dir, file.toString(), null, "app").trim());
  }

  @Test
  void socketFileGetsTheConfiguredMode() throws Exception {
    Path file = dir.resolve("owner-only.sock");
    fx.start(yaml(file, "socketMode: \"0600\""));
    assertEquals("rw-------", mode(file));
  }

  @Test
  void worldConnectableModeIsAppliedAndWarnedAtStart() throws Exception {
    LogCapture logs = fx.logs();
    Path file = dir.resolve("everyone.sock");
    fx.start(yaml(file, "socketMode: \"0666\""));
    assertEquals("rw-rw-rw-", mode(file));
    logs.await(l -> l.contains("listeners[0].socketMode: 0666 lets every local user connect to unix:" + file),
        Duration.ofSeconds(5));
  }

  @Test
  void staleSocketFileIsReplaced() throws Exception {
    LogCapture logs = fx.logs();
    Path file = dir.resolve("stale.sock");
    leaveStaleSocket(file);
    fx.start(yaml(file, null));
    assertEquals("backend", UnixClients.curl(dir, file.toString(), null, "app").trim());
    logs.await(l -> l.contains("listener web: removed the stale socket file " + file), Duration.ofSeconds(5));
  }

  @Test
  void socketWhereALiveProcessListensIsRefusedNamingTheKey() throws Exception {
    Path file = dir.resolve("live.sock");
    try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      live.bind(UnixDomainSocketAddress.of(file));
      ExecutionException e = assertThrows(ExecutionException.class, () -> fx.start(yaml(file, null)));
      ConfigException config = assertInstanceOf(ConfigException.class, e.getCause(), e::toString);
      assertEquals(List.of("listeners[0].listen: cannot listen on unix:" + file + ": a live process listens on "
          + file + "; stop it or choose another path"), config.problems());
      assertTrue(Files.exists(file), "the live process keeps its socket file");
    }
  }

  @Test
  void pathThatIsNotASocketIsRefused() throws Exception {
    Path file = Files.writeString(dir.resolve("data.txt"), "not a socket");
    ExecutionException e = assertThrows(ExecutionException.class, () -> fx.start(yaml(file, null)));
    ConfigException config = assertInstanceOf(ConfigException.class, e.getCause(), e::toString);
    assertEquals(List.of("listeners[0].listen: cannot listen on unix:" + file + ": " + file + " exists and is not "
        + "a socket; remove it or choose another path"), config.problems());
    assertEquals("not a socket", Files.readString(file), "the file is left alone");
  }

  @Test
  void missingDirectoryIsRefused() {
    Path file = dir.resolve("no-such-dir").resolve("app.sock");
    ExecutionException e = assertThrows(ExecutionException.class, () -> fx.start(yaml(file, null)));
    ConfigException config = assertInstanceOf(ConfigException.class, e.getCause(), e::toString);
    assertEquals(List.of("listeners[0].listen: cannot listen on unix:" + file + ": directory " + file.getParent()
        + " does not exist; create it (in Kubernetes, mount a volume there)"), config.problems());
  }

  @Test
  void socketFileIsGoneAfterStop() throws Exception {
    Path file = dir.resolve("stopped.sock");
    ProxyHarness proxy = fx.start(yaml(file, null));
    assertTrue(Files.exists(file, LinkOption.NOFOLLOW_LINKS));
    proxy.close();
    assertFalse(Files.exists(file, LinkOption.NOFOLLOW_LINKS), "the socket file was left behind");
  }

  @Test
  void socketFileIsGoneAfterSigterm() throws Exception {
    Path file = dir.resolve("process.sock");
    ProxyProcess p = fx.startProcess(yaml(file, null), 1);
    assertEquals("unix:" + file, p.address("web"));
    assertEquals("backend", UnixClients.curl(dir, file.toString(), null, "app").trim());
    assertTrue(Files.exists(file, LinkOption.NOFOLLOW_LINKS));
    p.terminate();
    assertEquals(0, p.waitForExit(Duration.ofSeconds(30)), () -> "exit code; logged: " + p.lines());
    assertFalse(Files.exists(file, LinkOption.NOFOLLOW_LINKS), () -> "the socket file was left behind; logged: "
        + p.lines());
  }

  @Test
  void checkWithoutTheNativeTransportNamesTheUnixEndpoint() throws Exception {
    Path config = Files.writeString(dir.resolve("check-no-native.yaml"), """
        listeners:
          - name: web
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:1, unix:/run/app/app.sock]}
        """);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    try (ExternalProcess check = ExternalProcess.run(dir, Duration.ofSeconds(60), java,
        "-Dio.netty.transport.noNative=true", "-cp", System.getProperty("java.class.path"), "io.tlsproxy.Main",
        "--check", "--config", config.toString())) {
      assertEquals(2, check.process().exitValue(), check.output());
      assertTrue(check.output().contains("listeners[0].upstream.endpoints[1]: Unix sockets need the native epoll "
          + "transport"), check.output());
    }
  }

  @Test
  void withoutTheNativeTransportAUnixAddressIsAOneLineErrorNamingTheKey() throws Exception {
    Path file = dir.resolve("no-native.sock");
    // Netty's switch that makes its native transports unavailable: Vert.x then falls back to NIO.
    AssertionError e = assertThrows(AssertionError.class,
        () -> fx.startProcess(yaml(file, null), 1, "-Dio.netty.transport.noNative=true"));
    assertTrue(e.getMessage().contains("listeners[0].listen: Unix sockets need the native epoll transport"),
        e.getMessage());
    assertFalse(Files.exists(file));
  }
}
