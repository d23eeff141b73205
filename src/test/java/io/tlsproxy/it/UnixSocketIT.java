package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.proxyproto.DecodeResult;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.ProxyHeaderBackend;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.UnixClients;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unix domain sockets on both sides of the proxy, with real clients (curl, socat, openssl, Python) and backends
 * behind socat: a {@code unix:} listener in each of the four modes, a {@code unix:} upstream in each mode, both at
 * once, TLS passthrough, abstract names, half-close across a socket, health checks of a socket, and the PROXY
 * protocol in both directions (HAProxy in front sends its header over the socket).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UnixSocketIT {

  private static final List<String> MODES = List.of("plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls");

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private Path dir;
  private TestPki.Issued ca;
  private ProxyHarness proxy;
  private LogCapture logs;
  private ProxyHeaderBackend recorder;
  private String abstractName;
  private int haproxyFront;

  @BeforeAll
  void start() throws Exception {
    dir = fx.dir();
    TestPki pki = fx.pki();
    ca = pki.ca("unix-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    TestPki.Issued backendCert = pki.server(ca, "backend.test", "backend.test");
    TestServer plain = fx.backend(TestServer.http("plain backend"));
    TestServer tls = fx.tlsBackend(backendCert, null, TestServer.http("tls backend"));
    TestServer echo = fx.echoBackend();
    recorder = fx.closing(ProxyHeaderBackend.plain());
    logs = fx.logs();
    abstractName = "tlsproxy-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    fx.closing(UnixClients.bridge(dir, sock("up-plain"), plain.port()));
    fx.closing(UnixClients.bridge(dir, sock("up-tls"), tls.port()));
    fx.closing(UnixClients.bridge(dir, "@" + abstractName + "-up", plain.port()));
    fx.closing(UnixClients.bridge(dir, sock("up-echo"), echo.port()));
    String serverTls = "{" + ProxyFixture.certificates(proxyCert) + "}";
    String upstreamTls = "{serverName: backend.test, ca: %s}".formatted(ca.certFile());
    StringBuilder yaml = new StringBuilder("listeners:\n");
    for (String mode : MODES) {
      boolean in = mode.startsWith("tls");
      boolean out = mode.endsWith("tls");
      String tcp = "127.0.0.1:" + (out ? tls.port() : plain.port());
      String unix = "unix:" + sock(out ? "up-tls" : "up-plain");
      // A Unix listener in front of a TCP backend, and a TCP listener in front of a Unix backend.
      yaml.append(listener("unix-" + mode, "unix:" + sock(mode), in ? serverTls : null, tcp, out ? upstreamTls : null));
      yaml.append(listener("to-unix-" + mode, "127.0.0.1:0", in ? serverTls : null, unix, out ? upstreamTls : null));
    }
    yaml.append(listener("unix-both", "unix:" + sock("both"), serverTls, "unix:" + sock("up-tls"), upstreamTls));
    yaml.append(listener("unix-echo", "unix:" + sock("echo"), null, "127.0.0.1:" + echo.port(), null));
    yaml.append(listener("to-unix-echo", "127.0.0.1:0", null, "unix:" + sock("up-echo"), null));
    yaml.append(listener("abstract", "unix:@" + abstractName, null, "unix:@" + abstractName + "-up", null));
    yaml.append("""
          - name: passthrough
            listen: unix:%1$s
            passthrough: true
            routes:
              - serverNames: [backend.test]
                upstream: {endpoints: [unix:%2$s]}
          - name: pp-v1
            listen: unix:%3$s
            upstream: {endpoints: [127.0.0.1:%4$d], proxyProtocol: v1}
          - name: pp-v2
            listen: unix:%5$s
            tls: %6$s
            upstream: {endpoints: [127.0.0.1:%4$d], proxyProtocol: v2}
          - name: behind-lb
            listen: unix:%7$s
            proxyProtocol: accept
            upstream: {endpoints: [127.0.0.1:%4$d], proxyProtocol: v1}
          - name: checked
            listen: 127.0.0.1:0
            upstream:
              endpoints: [unix:%8$s, unix:%9$s]
              healthCheck: {interval: 200ms, timeout: 150ms, unhealthyThreshold: 1, healthyThreshold: 1}
          - name: checked-tls
            listen: 127.0.0.1:0
            upstream:
              endpoints: [unix:%2$s]
              tls: %10$s
              healthCheck: {interval: 1s, timeout: 900ms, unhealthyThreshold: 1, healthyThreshold: 1}
          - name: checked-wrong-name
            listen: 127.0.0.1:0
            upstream:
              endpoints: [unix:%2$s]
              tls: {serverName: other.test, ca: %11$s}
              healthCheck: {interval: 1s, timeout: 900ms, unhealthyThreshold: 1, healthyThreshold: 1}
        """.formatted(sock("pass"), sock("up-tls"), sock("pp1"), recorder.port(), sock("pp2"), serverTls,
        sock("lb"), sock("up-plain"), sock("nobody-listens"), upstreamTls, ca.certFile()));
    proxy = fx.start(yaml.toString());
  }

  private String sock(String name) {
    return dir.resolve(name + ".sock").toString();
  }

  private static String listener(String name, String listen, String serverTls, String endpoint, String clientTls) {
    return "  - name: " + name + "\n    listen: " + listen + "\n"
        + (serverTls != null ? "    tls: " + serverTls + "\n" : "")
        + "    upstream: {endpoints: [" + endpoint + "]" + (clientTls != null ? ", tls: " + clientTls : "") + "}\n";
  }

  private static String body(String mode) {
    return mode.endsWith("tls") ? "tls backend" : "plain backend";
  }

  private TestPki.Issued caFor(String mode) {
    return mode.startsWith("tls") ? ca : null;
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls"})
  void curlThroughAUnixListenerInEveryMode(String mode) throws Exception {
    String out = UnixClients.curl(dir, sock(mode), caFor(mode), "proxy.test");
    assertEquals(body(mode), out.trim());
    // The access line names the socket where a TCP client's address would be.
    String line = logs.connectionLine("unix-" + mode, "close=");
    assertTrue(line.contains(" client=unix:" + sock(mode) + " "), line);
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls"})
  void pythonThroughAUnixListenerInEveryMode(String mode) throws Exception {
    String out = UnixClients.python(dir, sock(mode), caFor(mode), "proxy.test").trim();
    assertTrue(out.startsWith("HTTP/1.1 200 OK"), out);
    assertTrue(out.endsWith(body(mode)), out);
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls"})
  void socatThroughAUnixListenerInEveryMode(String mode) throws Exception {
    // socat carries the bytes of plaintext modes itself; for TLS modes it cannot speak TLS over a Unix socket,
    // so OpenSSL's client does the TLS there.
    String out = mode.startsWith("tls") ? UnixClients.opensslClient(dir, sock(mode), ca, "proxy.test")
        : UnixClients.socat(dir, sock(mode), "proxy.test");
    assertTrue(out.contains("HTTP/1.1 200 OK"), out);
    assertTrue(out.contains(body(mode)), out);
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls"})
  void aUnixUpstreamInEveryMode(String mode) throws Exception {
    String listener = "to-unix-" + mode;
    int port = proxy.port(listener);
    try (Socket s = mode.startsWith("tls") ? Clients.tls(TestPki.clientContext(ca, null), port, "proxy.test")
        : Clients.plain(port)) {
      String reply = new String(Clients.requestReply(s, "GET / HTTP/1.0\r\nHost: proxy.test\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII)), StandardCharsets.UTF_8);
      assertTrue(reply.endsWith(body(mode)), reply);
    }
    String line = logs.connectionLine(listener, "close=");
    String upstream = sock(mode.endsWith("tls") ? "up-tls" : "up-plain");
    assertTrue(line.contains("upstream=unix:" + upstream), line);
    if (mode.endsWith("tls")) {
      assertTrue(line.contains("upstream_tls=TLSv1.3/"), line);
    }
  }

  @Test
  void halfCloseOfAUnixClientStillGetsTheWholeReply() throws Exception {
    byte[] data = new byte[512 * 1024];
    new java.util.Random(7).nextBytes(data);
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock("echo")))) {
      CompletableFuture<byte[]> reply = CompletableFuture.supplyAsync(() -> readToEnd(c));
      c.write(ByteBuffer.wrap(data));
      c.shutdownOutput();
      // The echo backend sees the end only if the half-close crossed the proxy; then it finishes, and so do we.
      assertArrayEquals(data, reply.get(20, TimeUnit.SECONDS));
    }
  }

  @Test
  void halfCloseReachesAUnixUpstream() throws Exception {
    byte[] data = new byte[512 * 1024];
    new java.util.Random(8).nextBytes(data);
    try (Socket s = Clients.plain(proxy.port("to-unix-echo"))) {
      assertArrayEquals(data, Clients.requestReply(s, data));
    }
  }

  private static byte[] readToEnd(SocketChannel c) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    try {
      while (c.read(buf) >= 0) {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  @Test
  void unixOnBothSidesWithTlsOnBoth() throws Exception {
    assertEquals("tls backend", UnixClients.curl(dir, sock("both"), ca, "proxy.test").trim());
    assertTrue(UnixClients.python(dir, sock("both"), ca, "proxy.test").trim().endsWith("tls backend"));
  }

  @Test
  void passthroughRoutesTheClientsTlsToAUnixUpstream() throws Exception {
    // The client's TLS reaches the backend untouched: it verifies the backend's own certificate.
    assertEquals("tls backend", UnixClients.curl(dir, sock("pass"), ca, "backend.test").trim());
  }

  @Test
  void abstractNamesOnBothSides() throws Exception {
    String address = "@" + abstractName;
    assertTrue(UnixClients.listening(address), "the proxy listens on " + address);
    assertEquals("plain backend", UnixClients.curl(dir, address, null, "proxy.test").trim());
    assertTrue(UnixClients.python(dir, address, null, "proxy.test").trim().endsWith("plain backend"));
    assertTrue(UnixClients.socat(dir, address, "proxy.test").contains("plain backend"));
    String line = logs.connectionLine("abstract", "close=");
    assertTrue(line.contains(" client=unix:" + address + " "), line);
    assertTrue(line.contains("upstream=unix:" + address + "-up"), line);
    // An abstract name has no file.
    assertFalse(Files.exists(dir.resolve(abstractName)));
  }

  @Test
  void versionOneHeaderForAUnixClientIsUnknown() throws Exception {
    UnixClients.socat(dir, sock("pp1"), "proxy.test");
    DecodeResult.Decoded d = recorder.await(h -> h.version() == 1);
    assertEquals(ProxyHeader.Command.PROXY, d.header().command());
    assertEquals(ProxyHeader.Family.UNKNOWN, d.header().family());
    assertFalse(d.header().hasAddresses());
  }

  @Test
  void versionTwoHeaderForAUnixClientIsUnspecifiedButKeepsTheTlsTlvs() throws Exception {
    // The recorder echoes after the header (curl would refuse that as a reply), and never ends first.
    assertTrue(UnixClients.python(dir, sock("pp2"), ca, "proxy.test", true).startsWith("GET / HTTP/1.0"));
    DecodeResult.Decoded d = recorder.await(h -> h.version() == 2);
    assertEquals(ProxyHeader.Command.PROXY, d.header().command());
    assertEquals(ProxyHeader.Family.UNKNOWN, d.header().family());
    assertFalse(d.header().hasAddresses());
    assertEquals("proxy.test", d.header().authority().orElse(null), d::toString);
  }

  @Test
  void haproxyInFrontSendsItsHeaderOverTheSocket() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(onPath("haproxy"), "haproxy is not installed");
    int front = Ports.unused();
    Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), """
        global
          maxconn 100
        defaults
          mode tcp
          timeout connect 5s
          timeout client 20s
          timeout server 20s
        frontend front
          bind 127.0.0.1:%d
          default_backend tlsproxy
        backend tlsproxy
          server t unix@%s send-proxy-v2
        """.formatted(front, sock("lb")));
    fx.closing(ExternalProcess.start(dir, List.of("haproxy", "-db", "-f", cfg.toString())));
    Await.until("haproxy listening on " + front, Duration.ofSeconds(20), () -> accepts(front));
    try (Socket s = Clients.plain(front)) {
      Clients.requestReply(s, "GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      // What tlsproxy passed on is the address HAProxy's header named: the client's TCP socket.
      DecodeResult.Decoded d = recorder.await(h -> h.header().hasAddresses()
          && h.header().source().getPort() == s.getLocalPort());
      assertEquals(1, d.version());
      String line = logs.connectionLine("behind-lb", "client=/127.0.0.1:" + s.getLocalPort() + " ");
      assertTrue(line.contains(" via=unix:" + sock("lb")), line);
    }
  }

  @Test
  void healthChecksConnectToTheSocket() throws Exception {
    String up = "tlsproxy_upstream_endpoint_up";
    Await.until("the live socket up and the dead one down", Duration.ofSeconds(15), () -> {
      Scrape s = scrape();
      return s.sum(up, "listener", "checked", "endpoint", "unix:" + sock("up-plain")) == 1
          && s.sum(up, "listener", "checked", "endpoint", "unix:" + sock("nobody-listens")) == 0
          && s.text().contains("endpoint=\"unix:" + sock("nobody-listens") + "\"");
    });
  }

  @Test
  void tlsHealthChecksOverTheSocketVerifyTheServerName() {
    String up = "tlsproxy_upstream_endpoint_up";
    String endpoint = "unix:" + sock("up-tls");
    Await.until("the TLS check passes with the right name and fails with another", Duration.ofSeconds(15), () -> {
      String text = scrape().text();
      return text.contains(up + "{endpoint=\"" + endpoint + "\",listener=\"checked-tls\"} 1.0")
          && text.contains(up + "{endpoint=\"" + endpoint + "\",listener=\"checked-wrong-name\"} 0.0");
    });
  }

  private Scrape scrape() {
    try {
      return Scrape.of(proxy.adminPort());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }
}
