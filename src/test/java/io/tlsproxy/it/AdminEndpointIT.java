package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.ConfigException;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin endpoint of an in-process proxy whose one listener has TLS on both legs, client certificates
 * included: metrics in both exposition formats (and valid by promtool's rules), health, readiness, the
 * certificate inventory without key material, and refusals of what it does not serve.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminEndpointIT {

  private static final String LISTENER = "mtls";
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued serverCa;
  private TestPki.Issued clientCa;
  private TestPki.Issued proxyCert;
  private TestPki.Issued proxyClientCert;
  private TestPki.Issued alice;
  private TestServer backend;
  private ProxyHarness proxy;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    serverCa = pki.ca("admin-server-ca");
    clientCa = pki.ca("admin-client-ca");
    proxyCert = pki.server(serverCa, "proxy.test", "proxy.test", "alt.proxy.test");
    proxyClientCert = pki.client(clientCa, "tlsproxy-client");
    alice = pki.client(clientCa, "alice");
    TestPki.Issued backendCert = pki.server(serverCa, "backend.test", "backend.test");
    backend = fx.tlsBackend(backendCert, clientCa, TestServer::echo);
    proxy = fx.start("""
        listeners:
          - name: %s
            listen: 127.0.0.1:0
            tls: {%s, clientAuth: required, clientCa: %s}
            upstream:
              endpoints: [127.0.0.1:%d]
              tls: {serverName: backend.test, ca: %s, cert: %s, key: %s}
        """.formatted(LISTENER, ProxyFixture.certificates(proxyCert), clientCa.certFile(), backend.port(),
        serverCa.certFile(), proxyClientCert.certFile(), proxyClientCert.keyFile()));
  }

  /** One echo through the proxy, so that handshakes, connections and bytes have series to show. */
  private void relayOnce() throws Exception {
    byte[] hello = "through both legs".getBytes(StandardCharsets.US_ASCII);
    try (SSLSocket s = Clients.tls(TestPki.clientContext(serverCa, alice), proxy.port(LISTENER), "proxy.test")) {
      assertEquals("through both legs",
          new String(Clients.echo(s, hello), StandardCharsets.US_ASCII));
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return Scrape.get(proxy.adminPort(), path, null);
  }

  @Test
  void metricsAnswerInPrometheusTextFormatByDefault() throws Exception {
    HttpResponse<String> r = get("/metrics");
    assertEquals(200, r.statusCode());
    String type = r.headers().firstValue("Content-Type").orElse("");
    assertTrue(type.startsWith("text/plain; version=0.0.4"), type);
    assertFalse(r.body().contains("# EOF"), "text format has no EOF marker");
    Scrape scrape = new Scrape(r.body());
    assertEquals(1.0, scrape.sum("tlsproxy_build_info", "version", "test"), r.body());
    for (String jvm : List.of("jvm_memory_used_bytes", "process_cpu_seconds_total", "process_open_fds")) {
      assertTrue(scrape.sum(jvm) > 0, jvm + " missing or zero in:\n" + r.body());
    }
  }

  @Test
  void metricsAnswerInOpenMetricsWhenAskedFor() throws Exception {
    HttpResponse<String> r = Scrape.get(proxy.adminPort(), "/metrics",
        "application/openmetrics-text; version=1.0.0, text/plain; version=0.0.4; q=0.5");
    assertEquals(200, r.statusCode());
    String type = r.headers().firstValue("Content-Type").orElse("");
    assertTrue(type.startsWith("application/openmetrics-text"), type);
    assertTrue(r.body().endsWith("# EOF\n"), () -> "last lines: "
        + r.body().substring(Math.max(0, r.body().length() - 200)));
    assertEquals(1.0, new Scrape(r.body()).sum("tlsproxy_build_info", "version", "test"));
  }

  @Test
  void scrapeAfterRealTrafficPassesPromtool() throws Exception {
    relayOnce();
    Scrape scrape = Scrape.of(proxy.adminPort());
    // The series that traffic creates, so that promtool sees them rather than only the JVM's.
    assertTrue(scrape.sum("tlsproxy_tls_handshakes_total", "listener", LISTENER, "side", "downstream") >= 1,
        scrape.text());
    assertTrue(scrape.sum("tlsproxy_tls_handshakes_total", "listener", LISTENER, "side", "upstream") >= 1,
        scrape.text());
    assertTrue(scrape.sum("tlsproxy_connections_total", "listener", LISTENER) >= 1, scrape.text());
    assertTrue(scrape.sum("tlsproxy_tls_certificate_expiry_timestamp_seconds", "listener", LISTENER) > 0,
        scrape.text());
    ExternalProcess promtool = ExternalProcess.start(fx.dir(), List.of("promtool", "check", "metrics"));
    try (OutputStream in = promtool.stdin()) {
      in.write(scrape.text().getBytes(StandardCharsets.UTF_8));
    }
    int code = promtool.awaitExit(Duration.ofSeconds(30));
    assertEquals(0, code, () -> "promtool check metrics:\n" + promtool.output());
  }

  @Test
  void healthzAnswers200() throws Exception {
    HttpResponse<String> r = get("/healthz");
    assertEquals(200, r.statusCode(), r.body());
  }

  @Test
  void readyzAnswers200OnceStarted() throws Exception {
    HttpResponse<String> r = get("/readyz");
    assertEquals(200, r.statusCode(), r.body());
  }

  @Test
  void certsListEveryCertificateOfBothLegsWithoutKeyMaterial() throws Exception {
    HttpResponse<String> r = get("/certs");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    JsonArray certs = new JsonArray(r.body());
    assertEquals(4, certs.size(), r.body());
    assertListed(certs, "downstream", "server", proxyCert, List.of("proxy.test", "alt.proxy.test"));
    assertListed(certs, "downstream", "ca", clientCa, List.of());
    assertListed(certs, "upstream", "client", proxyClientCert, List.of());
    assertListed(certs, "upstream", "ca", serverCa, List.of());
    assertNoKeyMaterial(r.body(), proxyCert, proxyClientCert);
  }

  private static void assertListed(JsonArray certs, String side, String role, TestPki.Issued issued,
                                   List<String> dnsNames) throws Exception {
    List<JsonObject> matching = new ArrayList<>();
    for (int i = 0; i < certs.size(); i++) {
      JsonObject c = certs.getJsonObject(i);
      if (side.equals(c.getString("side")) && role.equals(c.getString("role"))) {
        matching.add(c);
      }
    }
    assertEquals(1, matching.size(), side + "/" + role + " in " + certs.encodePrettily());
    JsonObject c = matching.get(0);
    X509Certificate x = issued.cert();
    assertEquals(LISTENER, c.getString("listener"));
    assertEquals(x.getSubjectX500Principal().getName(), c.getString("subject"));
    assertEquals(x.getIssuerX500Principal().getName(), c.getString("issuer"));
    assertEquals(dnsNames, c.getJsonArray("dnsNames").getList());
    assertEquals(x.getSerialNumber().toString(16), c.getString("serial"));
    assertEquals(x.getNotBefore().toInstant().toString(), c.getString("notBefore"));
    assertEquals(x.getNotAfter().toInstant().toString(), c.getString("notAfter"));
    String sha256 = HexFormat.ofDelimiter(":").withUpperCase()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(x.getEncoded()));
    assertEquals(sha256, c.getString("sha256"));
  }

  /** Neither PEM armour nor the private keys in any encoding: PKCS#8 in Base64, or the EC scalar in hex. */
  private static void assertNoKeyMaterial(String body, TestPki.Issued... withKeys) {
    assertFalse(body.contains("PRIVATE"), body);
    assertFalse(body.contains("-----BEGIN"), body);
    for (TestPki.Issued issued : withKeys) {
      String pkcs8 = Base64.getEncoder().encodeToString(issued.key().getEncoded());
      // A 32-character run is enough to show the key, and short enough to find it split across lines.
      assertFalse(body.contains(pkcs8.substring(pkcs8.length() - 32)), "PKCS#8 of " + issued.name());
      String scalar = ((ECPrivateKey) issued.key()).getS().toString(16);
      assertFalse(body.toLowerCase().replace(":", "").contains(scalar), "private scalar of " + issued.name());
    }
  }

  @Test
  void unknownPathIs404() throws Exception {
    HttpResponse<String> r = get("/metricz");
    assertEquals(404, r.statusCode());
    assertTrue(r.body().contains("/metrics"), r.body());
  }

  @Test
  void postIs405() throws Exception {
    for (String path : List.of("/metrics", "/readyz", "/certs")) {
      HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path))
          .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString("x")).build();
      HttpResponse<String> r = HTTP.send(post, HttpResponse.BodyHandlers.ofString());
      assertEquals(405, r.statusCode(), path);
    }
    assertEquals(200, get("/readyz").statusCode(), "a refused POST changes nothing");
  }

  @Test
  void adminPortAlreadyInUseFailsStartWithOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      ExecutionException e = assertThrows(ExecutionException.class, () -> fx.start("""
          admin: {listen: 127.0.0.1:%d}
          listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%d]}}]
          """.formatted(port, backend.port())));
      ConfigException config = assertInstanceOf(ConfigException.class, e.getCause(), () -> e.toString());
      assertEquals(List.of("admin.listen: cannot listen on 127.0.0.1:" + port
          + ": address already in use; stop the other process or choose another port"), config.problems());
      assertNotNull(config.getMessage());
      assertFalse(config.getMessage().contains("\n"), config.getMessage());
    }
  }
}
