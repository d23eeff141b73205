package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Real clients and servers other than our own code: openssl s_client and curl against a TLS listener, and a
 * plaintext client through an originating listener to openssl s_server. They are installed by .ci/run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InteropIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private TestPki.Issued backendCert;
  private TestServer greeter;
  private ProxyHarness proxy;
  private LogCapture logs;
  private int sServerPort;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    ca = pki.ca("interop-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    backendCert = pki.server(ca, "backend.test", "backend.test");
    greeter = fx.backend(TestServer.greeting("hello from backend"));
    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    http.createContext("/", ex -> {
      byte[] body = ("you asked for " + ex.getRequestURI() + "\n").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
    http.start();
    fx.closing(() -> http.stop(0));
    sServerPort = Ports.unused();
    ExternalProcess sServer = fx.closing(ExternalProcess.start(fx.dir(), List.of("openssl", "s_server", "-accept",
        "127.0.0.1:" + sServerPort, "-cert", backendCert.certFile().toString(), "-key",
        backendCert.keyFile().toString(), "-www")));
    sServer.awaitOutput("ACCEPT", WAIT);
    logs = fx.logs();
    String tls = "{" + ProxyFixture.certificates(proxyCert) + "}";
    proxy = fx.start("""
        listeners:
          - name: greeter
            listen: 127.0.0.1:0
            tls: %1$s
            upstream: {endpoints: [127.0.0.1:%2$d]}
          - name: http
            listen: 127.0.0.1:0
            tls: %1$s
            upstream: {endpoints: [127.0.0.1:%3$d]}
          - name: to-s-server
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%4$d], tls: {serverName: backend.test, ca: %5$s}}
        """.formatted(tls, greeter.port(), http.getAddress().getPort(), sServerPort, ca.certFile()));
  }

  @Test
  void opensslClientVerifiesTheProxyAndExchangesData() throws Exception {
    try (ExternalProcess client = ExternalProcess.start(fx.dir(), List.of("openssl", "s_client", "-connect",
        "127.0.0.1:" + proxy.port("greeter"), "-servername", "proxy.test", "-CAfile", ca.certFile().toString(),
        "-verify_return_error", "-brief"))) {
      client.awaitOutput("hello from backend", WAIT);
      client.stdin().write("ping from openssl\n".getBytes(StandardCharsets.US_ASCII));
      client.stdin().flush();
      client.awaitOutput("ping from openssl", WAIT);
      client.stdin().close();
      assertEquals(0, client.awaitExit(WAIT), client.output());
      assertTrue(client.output().contains("Verification: OK"), client.output());
      assertTrue(client.output().contains("Protocol version: TLSv1.3"), client.output());
    }
    logs.connectionLine("greeter", "sni=proxy.test tls=TLSv1.3/");
  }

  @Test
  void opensslClientOfferingOnlyCbcSuitesIsRefused() throws Exception {
    ExternalProcess client = ExternalProcess.run(fx.dir(), WAIT, "openssl", "s_client", "-connect",
        "127.0.0.1:" + proxy.port("greeter"), "-servername", "proxy.test", "-CAfile", ca.certFile().toString(),
        "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA", "-brief");
    assertNotEquals(0, client.process().exitValue(), client.output());
    assertTrue(client.output().contains("handshake failure"), client.output());
    logs.connectionLine("greeter", "close=handshake_failed:no_shared_cipher");
    assertEquals(0, greeter.bytesReceived());
  }

  @Test
  void curlFetchesThroughTheTlsListenerWithVerification() throws Exception {
    int port = proxy.port("http");
    ExternalProcess curl = ExternalProcess.run(fx.dir(), WAIT, "curl", "-sS", "--cacert", ca.certFile().toString(),
        "--resolve", "proxy.test:" + port + ":127.0.0.1", "https://proxy.test:" + port + "/curl-path");
    assertEquals(0, curl.process().exitValue(), curl.output());
    assertEquals("you asked for /curl-path\n", curl.output());
  }

  @Test
  void curlLimitedToTls12GetsAnAeadSuite() throws Exception {
    int port = proxy.port("http");
    ExternalProcess curl = ExternalProcess.run(fx.dir(), WAIT, "curl", "-sS", "--tlsv1.2", "--tls-max", "1.2",
        "--cacert", ca.certFile().toString(), "--resolve", "proxy.test:" + port + ":127.0.0.1",
        "https://proxy.test:" + port + "/tls12");
    assertEquals(0, curl.process().exitValue(), curl.output());
    assertEquals("you asked for /tls12\n", curl.output());
    logs.connectionLine("http", "tls=TLSv1.2/TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  }

  @Test
  void plaintextClientReachesOpensslServerOverVerifiedTls() throws Exception {
    try (Socket s = Clients.plain(proxy.port("to-s-server"))) {
      s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String page = new String(Clients.readAll(s.getInputStream()), StandardCharsets.ISO_8859_1);
      assertTrue(page.startsWith("HTTP/1.0 200 ok"), page);
      assertTrue(page.contains("s_server"), page);
    }
    logs.connectionLine("to-s-server", "upstream_tls=TLSv1.3/");
  }

  @Test
  void curlReachesOpensslServerThroughTheOriginatingListener() throws Exception {
    ExternalProcess curl = ExternalProcess.run(fx.dir(), WAIT, "curl", "-sS", "--http1.0",
        "http://127.0.0.1:" + proxy.port("to-s-server") + "/");
    assertEquals(0, curl.process().exitValue(), curl.output());
    assertTrue(curl.output().contains("s_server"), curl.output());
  }
}
