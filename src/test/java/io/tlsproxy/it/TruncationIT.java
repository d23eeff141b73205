package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A TLS peer that ends TCP (FIN) after its handshake without sending close_notify may have had its data cut short
 * on the way (RFC 8446 section 6.1): on both engines and both sides, such a connection is logged as
 * {@code client_truncated} or {@code upstream_truncated} and counted in {@code tlsproxy_connections_closed_total},
 * while the half-close still works: the other direction is passed on whole.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TruncationIT {

  private static final byte[] REQUEST = "request\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] REPLY = "the whole reply\n".getBytes(StandardCharsets.US_ASCII);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private SSLContext clientTls;
  private SSLContext backendTls;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("truncation-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    backendTls = TestPki.serverContext(pki.server(ca, "backend.test", "backend.test"), null);
    clientTls = TestPki.clientContext(ca, null);
    // Reads the request to its end, then replies and closes properly.
    TestServer plainReplier = fx.backend((s, server) -> {
      readToEnd(s.getInputStream());
      s.getOutputStream().write(REPLY);
      s.close();
    });
    // TLS: reads the request to its end, replies, then ends TCP without close_notify.
    TestServer truncatingTlsBackend = fx.backend((raw, server) -> {
      SSLSocket tls = (SSLSocket) backendTls.getSocketFactory().createSocket(raw, null, raw.getPort(), false);
      tls.setUseClientMode(false);
      readToEnd(tls.getInputStream());
      tls.getOutputStream().write(REPLY);
      tls.getOutputStream().flush();
      raw.shutdownOutput(); // FIN, no close_notify
      readToEnd(raw.getInputStream());
      raw.close();
    });
    logs = fx.logs();
    StringBuilder yaml = new StringBuilder("listeners:\n");
    for (String engine : new String[] {"jdk", "openssl"}) {
      yaml.append("  - {name: in-").append(engine).append(", listen: 127.0.0.1:0, tls: {certificates: [{cert: ")
          .append(proxyCert.certFile()).append(", key: ").append(proxyCert.keyFile()).append("}], engine: ")
          .append(engine).append("}, upstream: {endpoints: [127.0.0.1:").append(plainReplier.port()).append("]}}\n");
      yaml.append("  - {name: out-").append(engine).append(", listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:")
          .append(truncatingTlsBackend.port()).append("], tls: {serverName: backend.test, ca: ")
          .append(ca.certFile()).append(", engine: ").append(engine).append("}}}\n");
    }
    proxy = fx.start(yaml.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"jdk", "openssl"})
  void clientFinWithoutCloseNotifyIsCountedAsTruncatedAndStillGetsTheWholeReply(String engine) throws Exception {
    String listener = "in-" + engine;
    double before = closed(listener, "client_truncated");
    try (Socket raw = new Socket()) {
      SSLSocket tls = tlsOver(raw, listener);
      tls.getOutputStream().write(REQUEST);
      tls.getOutputStream().flush();
      raw.shutdownOutput(); // FIN, no close_notify
      assertEquals(new String(REPLY, StandardCharsets.US_ASCII), readToEnd(tls.getInputStream()));
      assertTrue(logs.closingLine(listener, raw).contains(" close=client_truncated"),
          "access line: " + logs.closingLine(listener, raw));
    }
    awaitCount(listener, "client_truncated", before + 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"jdk", "openssl"})
  void clientCloseNotifyThenFinIsNotTruncation(String engine) throws Exception {
    String listener = "in-" + engine;
    double truncatedBefore = closed(listener, "client_truncated");
    try (Socket raw = new Socket()) {
      SSLSocket tls = tlsOver(raw, listener);
      tls.getOutputStream().write(REQUEST);
      tls.shutdownOutput(); // TLS 1.3 close_notify for this direction, then the reply still comes
      raw.shutdownOutput();
      assertEquals(new String(REPLY, StandardCharsets.US_ASCII), readToEnd(tls.getInputStream()));
      String line = logs.closingLine(listener, raw);
      assertTrue(!line.contains("truncated"), "access line: " + line);
    }
    assertEquals(truncatedBefore, closed(listener, "client_truncated"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"jdk", "openssl"})
  void upstreamFinWithoutCloseNotifyIsCountedAsTruncatedAndItsReplyPassedOn(String engine) throws Exception {
    String listener = "out-" + engine;
    double before = closed(listener, "upstream_truncated");
    try (Socket client = new Socket()) {
      client.connect(new InetSocketAddress("127.0.0.1", proxy.port(listener)));
      client.getOutputStream().write(REQUEST);
      client.shutdownOutput();
      assertEquals(new String(REPLY, StandardCharsets.US_ASCII), readToEnd(client.getInputStream()));
      assertTrue(logs.closingLine(listener, client).contains(" close=upstream_truncated"),
          "access line: " + logs.closingLine(listener, client));
    }
    awaitCount(listener, "upstream_truncated", before + 1);
  }

  /** TLS over {@code raw}, connected to {@code listener}: closing {@code raw}'s output then sends a bare FIN. */
  private SSLSocket tlsOver(Socket raw, String listener) throws IOException {
    raw.connect(new InetSocketAddress("127.0.0.1", proxy.port(listener)));
    SSLSocket tls = (SSLSocket) clientTls.getSocketFactory().createSocket(raw, "proxy.test", raw.getPort(), false);
    tls.startHandshake();
    return tls;
  }

  private double closed(String listener, String reason) throws Exception {
    return Scrape.of(proxy.adminPort()).sum("tlsproxy_connections_closed_total", "listener", listener, "reason",
        reason);
  }

  private void awaitCount(String listener, String reason, double expected) {
    Await.until(reason + " counted for " + listener, Duration.ofSeconds(10), () -> {
      try {
        return closed(listener, reason) == expected;
      } catch (Exception e) {
        return false;
      }
    });
  }

  private static String readToEnd(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
  }
}
