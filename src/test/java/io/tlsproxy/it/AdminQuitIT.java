package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /quitquitquit} against a proxy in its own JVM: without {@code admin.enableQuit}, or from a client
 * that is not on loopback, it is an unknown path (404, not even named in the help text) and the proxy goes on
 * serving; from loopback with the key set it drains and exits 0 (see also {@link LifecycleTest}).
 */
class AdminQuitIT {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @TempDir
  Path dir;
  private TestServer echo;
  private ProxyProcess proxy;

  @BeforeEach
  void startBackend() throws IOException {
    echo = TestServer.echo();
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    echo.close();
  }

  private void start(String admin) throws Exception {
    proxy = ProxyProcess.start(dir, """
        admin: %s
        listeners:
          - {name: app, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(admin, echo.port()), 1);
  }

  /**
   * A raw HTTP/1.1 request from {@code from} to the admin endpoint at {@code to}: the JDK's HTTP client on Java 17
   * cannot choose its local address. Returns the whole response.
   */
  private String request(String method, String path, InetAddress from, InetAddress to) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(from, 0));
      s.connect(new InetSocketAddress(to, proxy.adminPort()), Clients.TIMEOUT_MS);
      s.setSoTimeout(Clients.TIMEOUT_MS);
      s.getOutputStream().write((method + " " + path + " HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  /** Relays through the listener, is ready, is alive, and has not logged a drain. */
  private void assertStillServing() throws IOException {
    try (Socket s = Clients.plain(proxy.port("app"))) {
      byte[] hello = "still here".getBytes(StandardCharsets.US_ASCII);
      assertArrayEquals(hello, Clients.echo(s, hello));
    }
    assertTrue(request("GET", "/readyz", LOOPBACK, LOOPBACK).startsWith("HTTP/1.1 200 "), "ready");
    assertTrue(proxy.isAlive());
    assertTrue(proxy.lines().stream().noneMatch(l -> l.contains("draining")), () -> "drained: " + proxy.lines());
  }

  /** An address of this machine other than loopback, from which a connection to it is not a loopback one. */
  private static Optional<InetAddress> nonLoopbackAddress() throws SocketException {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(nic.getInetAddresses())) {
        if (!a.isLoopbackAddress() && !a.isLinkLocalAddress() && !a.isAnyLocalAddress()) {
          return Optional.of(a);
        }
      }
    }
    return Optional.empty();
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void quitIsNotFoundWhenNotEnabledAndTheProxyKeepsServing() throws Exception {
    start("{listen: 127.0.0.1:0}");
    String quit = request("POST", "/quitquitquit", LOOPBACK, LOOPBACK);
    assertTrue(quit.startsWith("HTTP/1.1 404 "), quit);
    assertFalse(quit.contains("quitquitquit"), "the help text does not offer it: " + quit);
    String unknown = request("GET", "/nothing", LOOPBACK, LOOPBACK);
    assertTrue(unknown.startsWith("HTTP/1.1 404 ") && unknown.contains("/metrics"), unknown);
    assertFalse(unknown.contains("quitquitquit"), unknown);
    assertStillServing();
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void quitFromANonLoopbackAddressIsNotFoundAndOnlyLoopbackStopsTheProxy() throws Exception {
    Optional<InetAddress> local = nonLoopbackAddress();
    Assumptions.assumeTrue(local.isPresent(), "this machine has no address other than loopback");
    // Listening on every address, so that the same endpoint is reached from loopback and from outside it.
    start("{listen: '0.0.0.0:0', enableQuit: true}");
    String quit = request("POST", "/quitquitquit", local.get(), local.get());
    assertTrue(quit.startsWith("HTTP/1.1 404 "), "from " + local.get() + ": " + quit);
    assertFalse(quit.contains("quitquitquit"), quit);
    assertFalse(request("GET", "/nothing", local.get(), local.get()).contains("quitquitquit"));
    assertStillServing();

    assertTrue(request("GET", "/nothing", LOOPBACK, LOOPBACK).contains("POST /quitquitquit"),
        "offered to loopback");
    String fromLoopback = request("POST", "/quitquitquit", LOOPBACK, LOOPBACK);
    assertTrue(fromLoopback.startsWith("HTTP/1.1 200 "), fromLoopback);
    assertEquals(0, proxy.waitForExit(Duration.ofSeconds(30)), "exit status");
    proxy.awaitLine(Duration.ofSeconds(5), "POST /quitquitquit: draining");
  }
}
