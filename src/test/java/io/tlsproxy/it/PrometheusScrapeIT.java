package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real Prometheus server scrapes the admin endpoint, with the content negotiation it really does (OpenMetrics
 * first), and its query API returns the handshake count the test made.
 */
class PrometheusScrapeIT {

  private static final String LISTENER = "scraped";
  private static final int HANDSHAKES = 3;

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void prometheusScrapesTheHandshakesMade() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("scrape-ca");
    TestPki.Issued cert = pki.server(ca, "scrape.test", "scrape.test");
    TestServer echo = fx.echoBackend();
    ProxyHarness proxy = fx.start("""
        listeners:
          - name: %s
            listen: 127.0.0.1:0
            tls: {%s}
            upstream: {endpoints: [127.0.0.1:%d]}
        """.formatted(LISTENER, ProxyFixture.certificates(cert), echo.port()));
    for (int i = 0; i < HANDSHAKES; i++) {
      // A fresh context each time: no session to resume, so every handshake is a full one.
      try (SSLSocket s = Clients.tls(TestPki.clientContext(ca, null), proxy.port(LISTENER), "scrape.test")) {
        byte[] ping = ("ping " + i).getBytes(StandardCharsets.US_ASCII);
        Clients.echo(s, ping);
      }
    }
    int webPort = Ports.unused();
    Path config = Files.writeString(fx.dir().resolve("prometheus.yml"), """
        global: {scrape_interval: 1s, scrape_timeout: 1s}
        scrape_configs:
          - job_name: tlsproxy
            static_configs: [{targets: ['127.0.0.1:%d']}]
        """.formatted(proxy.adminPort()));
    Path tsdb = Files.createDirectory(fx.dir().resolve("tsdb"));
    ExternalProcess prometheus = fx.closing(ExternalProcess.start(fx.dir(), List.of("prometheus",
        "--config.file=" + config, "--storage.tsdb.path=" + tsdb, "--web.listen-address=127.0.0.1:" + webPort)));
    prometheus.awaitOutput("Server is ready to receive web requests", Duration.ofSeconds(30));
    double seen = awaitHandshakes(webPort, prometheus, Duration.ofSeconds(30));
    assertEquals(HANDSHAKES, seen, () -> "handshakes Prometheus stored; its log:\n" + prometheus.output());
  }

  /**
   * Polls the query API until the downstream handshakes of the listener add up to {@link #HANDSHAKES} (summed over
   * protocol, cipher and resumption, whose series the test does not control); returns the last sum seen.
   */
  private static double awaitHandshakes(int webPort, ExternalProcess prometheus, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    double sum = -1;
    String last = "";
    for (int i = 0; i < 300 && System.nanoTime() < deadline; i++) {
      last = query(webPort, "tlsproxy_tls_handshakes_total");
      JsonObject answer = new JsonObject(last);
      if ("success".equals(answer.getString("status"))) {
        JsonArray result = answer.getJsonObject("data").getJsonArray("result");
        sum = 0;
        for (int j = 0; j < result.size(); j++) {
          JsonObject sample = result.getJsonObject(j);
          JsonObject metric = sample.getJsonObject("metric");
          if (LISTENER.equals(metric.getString("listener")) && "downstream".equals(metric.getString("side"))) {
            sum += Double.parseDouble(sample.getJsonArray("value").getString(1));
          }
        }
        if (sum == HANDSHAKES) {
          return sum;
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("Prometheus did not return " + HANDSHAKES + " handshakes within " + timeout
        + "; last answer: " + last + "\ntargets: " + get(webPort, "/api/v1/targets") + "\nits log:\n"
        + prometheus.output());
  }

  private static String query(int webPort, String promql) throws IOException, InterruptedException {
    return get(webPort, "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
  }

  /** Prometheus's API on loopback, fetched the way the admin endpoint is. */
  private static String get(int webPort, String pathAndQuery) throws IOException, InterruptedException {
    return Scrape.get(webPort, pathAndQuery, null).body();
  }
}
