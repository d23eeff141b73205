package io.tlsproxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What each path of the admin endpoint answers on a proxy in this JVM: the methods it refuses, the request to
 * quit handed to its owner once, readiness from the moment a drain starts, and the fields of the certificate
 * inventory as docs/metrics.md lists them. AdminEndpointIT checks the metrics formats and the inventory's values
 * behind a relay with client certificates on both legs.
 */
class AdminServerTest {

  /** The fields docs/metrics.md gives every entry of {@code /certs}; upstream entries have {@code route} too. */
  private static final Set<String> CERT_FIELDS = Set.of("listener", "side", "role", "subject", "dnsNames", "uris",
      "issuer", "serial", "notBefore", "notAfter", "sha256");

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();

  private static ProxyHarness plainProxy() throws Exception {
    return fx.start("""
        listeners:
          - {name: plain, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(Ports.unused()));
  }

  /** Sends {@code method path} and checks the answer's status and body; returns it for further checks. */
  private static HttpResponse<String> assertAnswer(ProxyHarness proxy, String method, String path, int status,
                                                   String body) throws Exception {
    HttpResponse<String> r = Scrape.send(proxy.adminPort(), method, path);
    assertEquals(status, r.statusCode(), () -> method + " " + path + ": " + r.body());
    assertEquals(body, r.body(), method + " " + path);
    return r;
  }

  @Test
  void healthAndReadinessAnswerOkOnceStarted() throws Exception {
    ProxyHarness proxy = plainProxy();
    assertAnswer(proxy, "GET", "/healthz", 200, "ok\n");
    HttpResponse<String> ready = assertAnswer(proxy, "GET", "/readyz", 200, "ready\n");
    assertEquals("no-store", ready.headers().firstValue("Cache-Control").orElse(""), "probes must not be cached");
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
      "PUT,    /metrics",
      "DELETE, /readyz",
      "PATCH,  /healthz",
      "POST,   /certs"})
  void methodsOtherThanGetAndHeadAre405(String method, String path) throws Exception {
    assertAnswer(plainProxy(), method, path, 405, "only GET\n");
  }

  @Test
  void headIsAnsweredLikeGetWithoutABody() throws Exception {
    assertAnswer(plainProxy(), "HEAD", "/readyz", 200, "");
  }

  @Test
  void quitquitquitIsNotFoundUnlessEnabled() throws Exception {
    ProxyHarness proxy = plainProxy();
    assertEquals(404, Scrape.send(proxy.adminPort(), "POST", "/quitquitquit").statusCode());
    assertEquals(0, proxy.quitRequests(), "a disabled quit must not stop the proxy");
  }

  @Test
  void quitquitquitTakesOnlyAPostAndAsksItsOwnerOnce() throws Exception {
    ProxyHarness proxy = fx.start("""
        admin: {listen: 127.0.0.1:0, enableQuit: true}
        listeners:
          - {name: plain, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(Ports.unused()));
    assertAnswer(proxy, "GET", "/quitquitquit", 405, "only POST\n");
    assertEquals(0, proxy.quitRequests(), "a GET must not stop the proxy");

    assertAnswer(proxy, "POST", "/quitquitquit", 200, "draining, then exiting\n");
    // The owner is asked once the answer has gone out, so the count may still be 0 for a moment.
    Await.until("the owner to be asked to quit", Duration.ofSeconds(5), () -> proxy.quitRequests() == 1);
    // The endpoint stops nothing itself: its owner drains.
    assertAnswer(proxy, "GET", "/readyz", 200, "ready\n");
    assertEquals(1, proxy.quitRequests());
  }

  @Test
  void readinessIs503FromTheMomentADrainStarts() throws Exception {
    ProxyHarness proxy = plainProxy();
    assertAnswer(proxy, "GET", "/readyz", 200, "ready\n");
    var drained = proxy.server().drain(Duration.ofSeconds(5));
    assertAnswer(proxy, "GET", "/readyz", 503, "draining\n");
    drained.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertAnswer(proxy, "GET", "/readyz", 503, "draining\n");
    assertEquals(200, Scrape.get(proxy.adminPort(), "/metrics", null).statusCode(),
        "metrics are still served while draining");
  }

  @Test
  void certsOfAPlaintextProxyIsAnEmptyList() throws Exception {
    HttpResponse<String> r = Scrape.get(plainProxy().adminPort(), "/certs", null);
    assertEquals(200, r.statusCode());
    assertEquals(new JsonArray(), new JsonArray(r.body()));
  }

  @Test
  void certsListEveryCertificateInUseWithTheDocumentedFieldsAndNoOthers() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("admin-ca");
    TestPki.Issued server = pki.server(ca, "edge", "edge.admin.test");
    TestPki.Issued client = pki.client(ca, "edge-client", "spiffe://admin.test/edge");
    int nowhere = Ports.unused();
    ProxyHarness proxy = fx.start("""
        listeners:
          - name: edge
            listen: 127.0.0.1:0
            tls: {%1$s, clientAuth: optional, clientCa: %2$s}
            routes:
              - name: api
                serverNames: [api.admin.test]
                upstream: {endpoints: [127.0.0.1:%3$d],
                           tls: {serverName: backend.test, ca: %2$s, cert: %4$s, key: %5$s}}
            upstream: {endpoints: [127.0.0.1:%3$d], tls: {serverName: backend.test, ca: %2$s}}
        """.formatted(ProxyFixture.certificates(server), ca.certFile(), nowhere, client.certFile(),
        client.keyFile()));

    HttpResponse<String> r = Scrape.get(proxy.adminPort(), "/certs", null);
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    JsonArray certs = new JsonArray(r.body());
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < certs.size(); i++) {
      JsonObject c = certs.getJsonObject(i);
      boolean upstream = "upstream".equals(c.getString("side"));
      Set<String> expected = new HashSet<>(CERT_FIELDS);
      if (upstream) {
        expected.add("route");
      }
      assertEquals(expected, c.fieldNames(), c.encode());
      assertEquals("edge", c.getString("listener"));
      assertTrue(c.getString("serial").matches("[0-9a-f]+"), c.encode());
      assertTrue(c.getString("sha256").matches("([0-9A-F]{2}:){31}[0-9A-F]{2}"), c.encode());
      assertTrue(Instant.parse(c.getString("notBefore")).isBefore(Instant.parse(c.getString("notAfter"))),
          c.encode());
      seen.add(c.getString("side") + "/" + (upstream ? c.getString("route") + "/" : "") + c.getString("role")
          + " " + c.getString("subject") + " " + c.getJsonArray("dnsNames").getList() + " "
          + c.getJsonArray("uris").getList());
    }
    assertEquals(Set.of(
        "downstream/server CN=edge [edge.admin.test] []",
        "downstream/ca CN=admin-ca [] []",
        "upstream/api/client CN=edge-client [] [spiffe://admin.test/edge]",
        "upstream/api/ca CN=admin-ca [] []",
        "upstream/default/ca CN=admin-ca [] []"), Set.copyOf(seen), r.body());
    assertEquals(5, seen.size(), "each certificate once: " + seen);
  }
}
