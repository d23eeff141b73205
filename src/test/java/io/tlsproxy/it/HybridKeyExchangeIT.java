package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * With the OpenSSL engine a listener prefers the post-quantum hybrid X25519MLKEM768 and still serves classic-only
 * clients; the access log names the group on both sides. The hybrid client is a second tlsproxy originating TLS
 * with BoringSSL (the JDK 17 client has no ML-KEM, and the installed openssl command may predate it).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HybridKeyExchangeIT {

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private SSLContext jdkClient;
  private ProxyHarness edge;
  private ProxyHarness clients;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("hybrid-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    jdkClient = TestPki.clientContext(ca, null);
    TestServer echo = fx.echoBackend();
    logs = fx.logs();
    edge = fx.start("""
        listeners:
          - {name: pq-edge, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%d]},
             tls: {%s, engine: openssl}}
        """.formatted(echo.port(), ProxyFixture.certificates(proxyCert)));
    String upstream = "endpoints: [127.0.0.1:%d], tls: {serverName: proxy.test, ca: %s, engine: openssl"
        .formatted(edge.port("pq-edge"), ca.certFile());
    clients = fx.start("""
        listeners:
          - {name: hybrid-only, listen: 127.0.0.1:0, upstream: {%1$s, namedGroups: [X25519MLKEM768]}}}
          - {name: classic-only, listen: 127.0.0.1:0, upstream: {%1$s, namedGroups: [X25519, secp256r1]}}}
        """.formatted(upstream));
  }

  private static void ping(Socket s) throws Exception {
    byte[] ping = "ping".getBytes(StandardCharsets.US_ASCII);
    assertArrayEquals(ping, Clients.echo(s, ping));
  }

  @Test
  void hybridOnlyClientGetsTheHybridGroup() throws Exception {
    try (Socket s = Clients.plain(clients.port("hybrid-only"))) {
      ping(s);
    }
    String line = logs.connectionLine("hybrid-only", "close=");
    assertTrue(line.contains(" upstream_group=X25519MLKEM768 "), line);
    logs.connectionLine("pq-edge", " group=X25519MLKEM768 ");
  }

  @Test
  void classicOnlyBoringSslClientStillConnects() throws Exception {
    try (Socket s = Clients.plain(clients.port("classic-only"))) {
      ping(s);
    }
    String line = logs.connectionLine("classic-only", "close=");
    assertTrue(line.contains(" upstream_group=X25519 "), line);
  }

  @Test
  void classicOnlyJdkClientStillConnects() throws Exception {
    Socket s = Clients.tls(jdkClient, edge.port("pq-edge"), "proxy.test");
    try (s) {
      ping(s);
    }
    String line = logs.connectionLineOf("pq-edge", s); // logged at close; a closed socket keeps its local port
    assertTrue(line.contains(" group=X25519 "), line);
  }
}
