package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.proxyproto.DecodeResult;
import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.ProxyHeaderBackend;
import io.tlsproxy.testkit.TestPki;
import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The PROXY protocol against HAProxy, the reference implementation: HAProxy in front sends version 2 to an
 * accepting listener, and HAProxy behind accepts the version 1 and 2 headers (with TLS TLVs) tlsproxy sends and
 * passes on what it understood. Skipped when {@code haproxy} is not on the PATH.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HaproxyProxyProtocolIT {

  private static final byte[] HELLO = "hello via haproxy".getBytes(StandardCharsets.UTF_8);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private ProxyHeaderBackend recorder;
  private ProxyHarness proxy;
  private LogCapture logs;
  private int front;

  @BeforeAll
  void start() throws Exception {
    Assumptions.assumeTrue(onPath("haproxy"), "haproxy is not installed");
    TestPki pki = fx.pki();
    ca = pki.ca("ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    recorder = fx.closing(ProxyHeaderBackend.plain());
    logs = fx.logs();
    front = Ports.unused();
    int behind = Ports.unused();
    proxy = fx.start("""
        listeners:
          - name: behind-lb
            listen: 127.0.0.1:0
            proxyProtocol: accept
            upstream: {endpoints: [127.0.0.1:%1$d], proxyProtocol: v1}
          - name: to-haproxy-v1
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v1}
          - name: to-haproxy-v2
            listen: 127.0.0.1:0
            tls: {%3$s}
            upstream: {endpoints: [127.0.0.1:%2$d], proxyProtocol: v2}
        """.formatted(recorder.port(), behind, ProxyFixture.certificates(proxyCert)));
    Path cfg = Files.writeString(fx.dir().resolve("haproxy.cfg"), """
        global
          maxconn 100
        defaults
          mode tcp
          timeout connect 5s
          timeout client 20s
          timeout server 20s
        frontend front
          bind 127.0.0.1:%1$d
          default_backend tlsproxy
        backend tlsproxy
          server t 127.0.0.1:%2$d send-proxy-v2
        frontend behind
          bind 127.0.0.1:%3$d accept-proxy
          default_backend recorder
        backend recorder
          server r 127.0.0.1:%4$d send-proxy-v2 proxy-v2-options authority
        """.formatted(front, proxy.port("behind-lb"), behind, recorder.port()));
    fx.closing(ExternalProcess.start(fx.dir(), List.of("haproxy", "-db", "-f", cfg.toString())));
    Await.until("haproxy listening on " + front + " and " + behind, Duration.ofSeconds(20),
        () -> accepts(front) && accepts(behind));
  }

  @Test
  void versionTwoFromHaproxyInFrontNamesTheRealClient() throws Exception {
    Socket s = Clients.plain(front);
    try (s) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      DecodeResult.Decoded d = recorder.await(h -> fromClient(h, s));
      assertEquals(1, d.version(), "what tlsproxy sent on");
    }
    String line = logs.connectionLine("behind-lb", "client=/127.0.0.1:" + s.getLocalPort() + " ");
    assertTrue(line.contains(" via=/127.0.0.1:"), line);
  }

  @Test
  void haproxyBehindUnderstandsVersionOne() throws Exception {
    try (Socket s = Clients.plain(proxy.port("to-haproxy-v1"))) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      // HAProxy re-sends, as version 2, the client address it read from our version 1 header.
      assertEquals(2, recorder.await(h -> fromClient(h, s)).version());
    }
  }

  @Test
  void haproxyBehindUnderstandsVersionTwoWithTlsTlvs() throws Exception {
    try (SSLSocket s = Clients.tls(TestPki.clientContext(ca, null), proxy.port("to-haproxy-v2"), "proxy.test")) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
      // The authority it passes on is the SNI name it read from our PP2_TYPE_AUTHORITY.
      DecodeResult.Decoded d = recorder.await(h -> fromClient(h, s));
      assertEquals("proxy.test", d.header().authority().orElse(null), d::toString);
    }
  }

  private static boolean fromClient(DecodeResult.Decoded d, Socket client) {
    return d.header().hasAddresses() && d.header().source().getPort() == client.getLocalPort();
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean onPath(String command) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(d, command))) {
        return true;
      }
    }
    return Files.isExecutable(Path.of("/usr/sbin", command));
  }
}
