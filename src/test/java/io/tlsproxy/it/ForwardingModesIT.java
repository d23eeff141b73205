package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The four listener modes, each with a real echo backend: small exchanges and a 256 MiB transfer. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForwardingModesIT {

  private static final long BIG = 256L * 1024 * 1024;

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private SSLContext client;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("modes-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    TestPki.Issued backendCert = pki.server(ca, "backend.test", "backend.test");
    client = TestPki.clientContext(ca, null);
    TestServer plainEcho = fx.echoBackend();
    TestServer tlsEcho = fx.tlsEchoBackend(backendCert);
    logs = fx.logs();
    // Both sides take the default engine, so that each surefire run moves 256 MiB through one of them. The
    // transfers end with the client's close_notify while the echo still flows back (TLS 1.3 half-close).
    String serverTls = "{" + ProxyFixture.certificates(proxyCert) + "}";
    String upstreamTls = "{serverName: backend.test, ca: %s}".formatted(ca.certFile());
    proxy = fx.start("""
        listeners:
          - name: plain-to-plain
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%1$d]}
          - name: tls-to-plain
            listen: 127.0.0.1:0
            tls: %3$s
            upstream: {endpoints: [127.0.0.1:%1$d]}
          - name: plain-to-tls
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%2$d], tls: %4$s}
          - name: tls-to-tls
            listen: 127.0.0.1:0
            tls: %3$s
            upstream: {endpoints: [127.0.0.1:%2$d], tls: %4$s}
        """.formatted(plainEcho.port(), tlsEcho.port(), serverTls, upstreamTls));
  }

  private Socket connect(String listener) throws Exception {
    int port = proxy.port(listener);
    return listener.startsWith("tls") ? Clients.tls(client, port, "proxy.test") : Clients.plain(port);
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls"})
  void bytesFlowBothWaysInEveryMode(String listener) throws Exception {
    try (Socket s = connect(listener)) {
      for (int i = 0; i < 3; i++) {
        byte[] msg = ("message " + i + " via " + listener).getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(msg, Clients.echo(s, msg));
      }
    }
    String line = logs.connectionLine(listener, "close=");
    if (listener.startsWith("tls")) {
      assertContains(line, "tls=TLSv1.3/");
      assertContains(line, "sni=proxy.test");
    }
    if (listener.endsWith("tls")) {
      assertContains(line, "upstream_tls=TLSv1.3/");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls"})
  void transferOf256MiBArrivesIntact(String listener) throws Exception {
    try (Socket s = connect(listener)) {
      Clients.Transfer t = Clients.pushThroughEcho(s, BIG);
      assertEquals(BIG, t.received());
      assertEquals(t.sentSha256(), t.receivedSha256());
    }
  }

  private static void assertContains(String text, String part) {
    if (!text.contains(part)) {
      throw new AssertionError("expected '" + part + "' in: " + text);
    }
  }
}
