package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a log pipeline sees on the proxy's standard error: with {@code logging.format: json} every line of a whole
 * run (start, connections, a handshake failure, a reload, the drain) is one JSON object with {@code ts} in UTC,
 * {@code level}, {@code logger} and {@code msg}, read by the real {@code jq}; {@code logging.access: false} drops the
 * connection lines only; {@code TLSPROXY_LOG_LEVEL} wins over {@code logging.level}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoggingIT {

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private TestPki.Issued cert;
  private TestServer backend;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    ca = pki.ca("logging-ca");
    cert = pki.server(ca, "log.test", "log.test");
    backend = fx.echoBackend();
  }

  private String config(String logging) {
    return """
        logging: %s
        listeners:
          - name: web
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %s, key: %s}]}
            upstream: {endpoints: [127.0.0.1:%d]}
        """.formatted(logging, cert.certFile(), cert.keyFile(), backend.port());
  }

  /** One echoed TLS exchange, then one plaintext client on the TLS port (a handshake failure). */
  private void traffic(ProxyProcess proxy) throws Exception {
    traffic(proxy, proxy.port("web"));
  }

  private void traffic(ProxyProcess proxy, int port) throws Exception {
    SSLContext client = TestPki.clientContext(ca, null);
    try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(Clients.TIMEOUT_MS);
      s.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      assertEquals('p', s.getInputStream().read());
    }
    try (Socket s = Clients.plain(port)) {
      s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      s.getInputStream().read();
    } catch (IOException reset) {
      // refused with a reset: the proxy has seen it all the same
    }
  }

  @Test
  void everyLineOfAJsonRunIsAJsonObjectThatJqReads() throws Exception {
    ProxyProcess proxy = fx.startProcess(config("{format: json}"), 1);
    try {
      proxy.assumeSighupReaches();
      traffic(proxy);
      proxy.awaitLine(Duration.ofSeconds(15), "\"close\":\"handshake_failed:not_tls\"");
      new ProcessBuilder("kill", "-HUP", Long.toString(proxy.pid())).start().waitFor(10, TimeUnit.SECONDS);
      proxy.awaitLine(Duration.ofSeconds(15), "certificates reloaded");
      proxy.terminate();
      assertEquals(0, proxy.waitForExit(Duration.ofSeconds(30)));
    } finally {
      proxy.close();
    }
    List<String> lines = proxy.lines();
    for (String part : List.of("started", "\"event\":\"connection\"", "handshake_failed", "certificates reloaded",
        "draining", "stopped")) {
      assertTrue(lines.stream().anyMatch(l -> l.contains(part)), "no line with " + part + ": " + lines);
    }
    assertEquals(List.of(), lines.stream().filter(l -> !l.startsWith("{")).toList(), "lines that are not JSON");
    Path log = fx.dir().resolve("json-run.log");
    Files.write(log, lines);
    // -s reads every line as one document of an array: a line that is not JSON fails the whole run.
    // Prints the lines that fail, so that an empty array is the pass.
    assertEquals("[]", jq(log, "map(select((type == \"object\" and (.ts | test(\"^[0-9-]+T[0-9:.]+Z$\")) "
        + "and (.level | IN(\"debug\", \"info\", \"warn\", \"error\")) and (.logger | type == \"string\") "
        + "and (.msg | type == \"string\")) | not)) | tojson"));
    assertEquals("true", jq(log, "[.[] | select(.event == \"connection\")] | length > 0 and all(.[]; "
        + "(.bytes_to_upstream | type == \"number\") and (.duration_ms | type == \"number\") "
        + "and (.id | type == \"number\") and (.start | type == \"string\"))"), "lines: " + lines);
  }

  @Test
  void accessFalseDropsConnectionLinesAndNothingElse() throws Exception {
    try (ProxyProcess proxy = fx.startProcess(config("{access: false}"), 1)) {
      traffic(proxy);
      // The handshake failure is counted before the connection's end is logged; the scrape is the witness.
      proxy.awaitLine(Duration.ofSeconds(10), "admin listening on");
      int admin = proxy.adminPort();
      Await.until("both connections closed", Duration.ofSeconds(15), () -> {
        try {
          return Scrape.of(admin).sum("tlsproxy_connections_closed_total", "listener", "web")
              == 2;
        } catch (Exception e) {
          return false;
        }
      });
      assertFalse(proxy.lines().stream().anyMatch(l -> l.contains("connection listener=")), proxy.lines().toString());
      assertTrue(proxy.lines().stream().anyMatch(l -> l.contains("listener web listening on")));
    }
  }

  @Test
  void environmentLevelWinsOverTheFile() throws Exception {
    try (ProxyProcess proxy = ProxyProcess.start(fx.dir(), config("{level: error}"), 1, List.of(),
        Map.of("TLSPROXY_LOG_LEVEL", "debug"))) {
      traffic(proxy);
      // At debug level the handshake failure's detail is logged; at error it would not be.
      proxy.awaitLine(Duration.ofSeconds(15), " DEBUG ");
      assertTrue(proxy.lines().stream().anyMatch(l -> l.contains(" INFO tlsproxy ")), proxy.lines().toString());
    }
  }

  @Test
  void levelFromTheFileHoldsBackLessSevereLines() throws Exception {
    int port = Ports.unused();
    String yaml = config("{level: warn}").replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:" + port);
    try (ProxyProcess proxy = fx.startProcess(yaml, 0)) {
      // Nothing at info says the port is open: the echo through it does. What start-up logs comes before that.
      Await.until("the listener serves", Duration.ofSeconds(30), () -> {
        try {
          traffic(proxy, port);
          return true;
        } catch (Exception | AssertionError e) {
          return false;
        }
      });
      assertTrue(proxy.lines().stream().noneMatch(l -> l.contains(" INFO ")), proxy.lines().toString());
    }
  }

  @Test
  void anUnknownEnvironmentLevelStopsTheStartWithOneLine() throws Exception {
    Path file = fx.dir().resolve("env-level.yaml");
    Files.writeString(file, ProxyHarness.withEphemeralAdmin(config("{}")));
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.tlsproxy.Main", "--config", file.toString());
    pb.environment().put("TLSPROXY_LOG_LEVEL", "verbose");
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the proxy did not stop");
    assertEquals(2, p.exitValue(), err);
    assertTrue(err.lines().anyMatch(l -> l.equals("TLSPROXY_LOG_LEVEL: unknown value 'verbose'; use one of debug, "
        + "info, warn, error")), err);
  }

  private static String jq(Path file, String filter) throws Exception {
    Process p = new ProcessBuilder("jq", "-e", "-r", "-s", filter, file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "jq did not finish");
    assertEquals(0, p.exitValue(), "jq -e " + filter + ": " + out);
    return out;
  }
}
