package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The start-up warm-up, seen from outside a real process: {@code /readyz} says 503 "warming up" until it is done,
 * configured upstreams get no connection from it, its connections are not traffic on {@code /metrics}, it can be
 * switched off, and a warm-up that cannot run logs one line while the proxy becomes ready all the same.
 */
class WarmupIT {

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();

  private static final Pattern DONE = Pattern.compile("warm-up: (\\d+) connection set-ups through 2 listeners in");

  /** An originating listener (plain in, TLS out) and a terminating one that requires client certificates. */
  private record Setup(String yaml, TestServer tlsUpstream, TestServer plainUpstream, SSLContext client) {
  }

  private static Setup setup(String warmup) throws IOException {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("warmup-it-ca");
    TestPki.Issued server = pki.server(ca, "localhost", "localhost");
    TestPki.Issued client = pki.client(ca, "warmup-it-client");
    TestServer tlsUpstream = fx.tlsEchoBackend(server);
    TestServer plainUpstream = fx.echoBackend();
    String yaml = """
        %s
        listeners:
          - name: orig
            listen: 127.0.0.1:0
            upstream:
              endpoints: [127.0.0.1:%d]
              tls: {serverName: localhost, ca: %s}
          - name: term
            listen: 127.0.0.1:0
            tls: {%s, clientAuth: required, clientCa: %s}
            upstream: {endpoints: [127.0.0.1:%d]}
        """.formatted(warmup, tlsUpstream.port(), ca.certFile(), ProxyFixture.certificates(server), ca.certFile(),
        plainUpstream.port());
    return new Setup(yaml, tlsUpstream, plainUpstream, TestPki.clientContext(ca, client));
  }

  /** Polls {@code /readyz} every few milliseconds until 200; returns every status seen, the first one first. */
  private static List<String> pollUntilReady(int admin, Duration timeout, Runnable atFirstReady)
      throws Exception {
    List<String> seen = new ArrayList<>();
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      HttpResponse<String> r = Scrape.get(admin, "/readyz", null);
      seen.add(r.statusCode() + " " + r.body().trim());
      if (r.statusCode() == 200) {
        atFirstReady.run();
        return seen;
      }
      Thread.sleep(5);
    }
    throw new AssertionError("/readyz not 200 within " + timeout + "; seen " + seen);
  }

  private static String echoed(Socket s) throws IOException {
    s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return Clients.readLine(s);
  }

  private static List<String> warmupLines(ProxyProcess p) {
    return p.lines().stream().filter(l -> l.contains("warm-up")).toList();
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void readyzSays503WhileWarmingUpAndConfiguredUpstreamsSeeNoConnectionBeforeReady() throws Exception {
    // Enough set-ups that the warm-up outlasts the first polls even on a fast machine; bounded well above them.
    Setup s = setup("warmup: {connections: 600, maxDuration: 60s}");
    ProxyProcess p = fx.startProcess(s.yaml(), 2);
    int[] upstreamConnectionsAtReady = new int[2];
    List<String> seen = pollUntilReady(p.adminPort(), Duration.ofSeconds(90), () -> {
      upstreamConnectionsAtReady[0] = s.tlsUpstream().served() + s.tlsUpstream().openConnections();
      upstreamConnectionsAtReady[1] = s.plainUpstream().served() + s.plainUpstream().openConnections();
    });

    assertEquals("503 warming up", seen.get(0), "not ready while warming up; seen " + seen);
    assertEquals(0, upstreamConnectionsAtReady[0], "the TLS upstream got a connection from the warm-up");
    assertEquals(0, upstreamConnectionsAtReady[1], "the plain upstream got a connection from the warm-up");
    String line = p.awaitLine(Duration.ofSeconds(10), "warm-up: ");
    Matcher m = DONE.matcher(line);
    assertTrue(m.find() && line.contains(" INFO "), "one info line with set-ups and duration: " + line);
    assertEquals(600, Integer.parseInt(m.group(1)), line);
    assertEquals(1, warmupLines(p).size(), "one line: " + warmupLines(p));

    Scrape metrics = Scrape.of(p.adminPort());
    assertEquals(600, metrics.sum("tlsproxy_warmup_connections"), "the warm-up's own gauge");
    assertTrue(metrics.sum("tlsproxy_warmup_duration_seconds") > 0, "the warm-up's duration");
    assertEquals(0, metrics.sum("tlsproxy_connections_total"), "warm-up connections counted as traffic");
    assertEquals(0, metrics.sum("tlsproxy_tls_handshakes_total"), "warm-up handshakes counted as traffic");
    assertFalse(metrics.text().contains("listener=\"warmup-"), "a warm-up listener on /metrics");

    // Warmed up, the real paths carry real traffic to the configured upstreams.
    try (Socket c = Clients.plain(p.port("orig"))) {
      assertEquals("hello", echoed(c));
    }
    try (Socket c = Clients.tls(s.client(), p.port("term"), "localhost")) {
      assertEquals("hello", echoed(c));
    }
    assertEquals(1, s.tlsUpstream().served());
    assertEquals(1, s.plainUpstream().served());
    assertEquals(2, Scrape.of(p.adminPort()).sum("tlsproxy_connections_total"));
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void switchedOffTheProxyIsReadyAsSoonAsItListens() throws Exception {
    Setup s = setup("warmup: {enabled: false}");
    ProxyProcess p = fx.startProcess(s.yaml(), 2);
    List<String> seen = pollUntilReady(p.adminPort(), Duration.ofSeconds(30), () -> { });

    assertEquals(List.of("200 ready"), seen, "ready at the first poll");
    assertEquals(List.of(), warmupLines(p));
    assertFalse(Scrape.of(p.adminPort()).text().contains("tlsproxy_warmup_"), "no warm-up gauges without one");
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void warmupThatCannotBindLogsOneLineAndTheProxyBecomesReady() throws Exception {
    Setup s = setup("warmup: {connections: 100, maxDuration: 5s}");
    // An address no interface has (TEST-NET-1, RFC 5737): the warm-up's loopback binds fail, nothing is sent.
    ProxyProcess p = fx.startProcess(s.yaml(), 2, "-Dtlsproxy.warmup.host=192.0.2.1");
    List<String> seen = pollUntilReady(p.adminPort(), Duration.ofSeconds(60), () -> { });

    assertEquals("200 ready", seen.get(seen.size() - 1));
    // The process's output is read on another thread: /readyz can answer before the line has been read.
    p.awaitLine(Duration.ofSeconds(10), "warm-up: ");
    List<String> lines = warmupLines(p);
    assertEquals(1, lines.size(), "one line: " + lines);
    assertTrue(lines.get(0).contains(" WARN ") && lines.get(0).contains("warm-up: stopped after"), lines.get(0));
    assertEquals(0, s.tlsUpstream().served() + s.plainUpstream().served());
    try (Socket c = Clients.plain(p.port("orig"))) {
      assertEquals("hello", echoed(c), "the proxy serves without its warm-up");
    }
  }
}
