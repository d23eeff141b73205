package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.log.LineFormatter;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.tls.policy.PolicyResolver;
import io.tlsproxy.tls.policy.TlsPolicy;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * With {@code logging: {format: json}} each connection's closing line is one JSON object whose values are what
 * the client did; a server name chosen by the client cannot break it. The line format is the process's (set from
 * the configuration at start, see LoggingIT): here the records are written by that JSON line format in this JVM.
 * The default text line carries the handshake time too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JsonAccessLogIT {

  private static final int REPLY_SIZE = 777;

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private TestServer backend;
  private ProxyHarness jsonProxy;
  private ProxyHarness textProxy;
  private LogCapture logs;
  /** The same records as the JSON line format writes them. */
  private LogCapture jsonLogs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    ca = pki.ca("log-ca");
    TestPki.Issued cert = pki.server(ca, "log.test", "log.test");
    backend = fx.backend(JsonAccessLogIT::replyOnceRequestEnds);
    logs = fx.logs();
    jsonLogs = fx.closing(new LogCapture(new LineFormatter(true)));
    String listener = """
        listeners:
          - name: %s
            listen: 127.0.0.1:0
            tls: {%s}
            upstream: {endpoints: [127.0.0.1:%d]}
        """;
    String certificates = ProxyFixture.certificates(cert);
    jsonProxy = fx.start("logging: {format: json}\n"
        + listener.formatted("json", certificates, backend.port()));
    textProxy = fx.start(listener.formatted("text", certificates, backend.port()));
  }

  /** Reads the whole request, then answers {@link #REPLY_SIZE} bytes whatever its size, and finishes. */
  private static void replyOnceRequestEnds(Socket s, TestServer server) throws IOException {
    server.received(Clients.readAll(s.getInputStream()).length);
    byte[] reply = new byte[REPLY_SIZE];
    Arrays.fill(reply, (byte) 'r');
    s.getOutputStream().write(reply);
    s.getOutputStream().flush();
  }

  /** A TLS socket after its handshake, sending {@code sni} as raw bytes, which the JDK sends unvalidated. */
  private SSLSocket tls(int port, byte[] sni) throws IOException {
    SSLContext ctx = TestPki.clientContext(ca, null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
    s.connect(new InetSocketAddress("127.0.0.1", port), Clients.TIMEOUT_MS);
    s.setSoTimeout(Clients.TIMEOUT_MS);
    SSLParameters p = s.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName(sni)));
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  /** The JSON closing line of {@code client}'s connection, parsed; fails if it is not one JSON object. */
  private JsonObject jsonLine(Socket client) {
    String marker = "\"client\":\"/127.0.0.1:" + client.getLocalPort() + "\"";
    String json = jsonLogs.await(l -> l.contains("\"event\":\"connection\"") && l.contains(marker),
        Duration.ofSeconds(15));
    try {
      return new JsonObject(json);
    } catch (DecodeException e) {
      throw new AssertionError("not one JSON object: " + json, e);
    }
  }

  @Test
  void closingLineIsOneJsonObjectWithWhatTheClientDid() throws Exception {
    byte[] request = new byte[12_345];
    Arrays.fill(request, (byte) 'q');
    long started = System.nanoTime();
    JsonObject line;
    try (SSLSocket s = tls(jsonProxy.port("json"), "log.test".getBytes(StandardCharsets.US_ASCII))) {
      byte[] reply = Clients.requestReply(s, request);
      assertEquals(REPLY_SIZE, reply.length);
      line = jsonLine(s);
      assertEquals("/127.0.0.1:" + s.getLocalPort(), line.getString("client"));
      assertEquals(s.getSession().getProtocol() + "/" + s.getSession().getCipherSuite(), line.getString("tls"));
    }
    long tookMs = Duration.ofNanos(System.nanoTime() - started).toMillis();
    Set<String> fields = new HashSet<>(Set.of("ts", "level", "logger", "msg", "event", "listener", "client", "id",
        "start", "sni", "tls", "handshake_ms", "upstream", "upstream_connect_ms", "bytes_to_upstream",
        "bytes_to_downstream", "duration_ms", "close"));
    if (TlsPolicy.OPENSSL.equals(PolicyResolver.defaultEngine())) {
      fields.add("group"); // only BoringSSL tells which key exchange group was used
    }
    assertEquals(fields, line.fieldNames(), line.encode());
    assertEquals("connection", line.getString("event"));
    assertEquals("connection", line.getString("msg"));
    assertEquals("tlsproxy.access", line.getString("logger"));
    assertEquals("info", line.getString("level"));
    assertEquals("json", line.getString("listener"));
    assertEquals("log.test", line.getString("sni"));
    assertEquals("127.0.0.1:" + backend.port(), line.getString("upstream"));
    assertEquals(request.length, line.getLong("bytes_to_upstream"), line.encode());
    assertEquals(REPLY_SIZE, line.getLong("bytes_to_downstream"), line.encode());
    assertEquals("completed", line.getString("close"));
    assertTrue(line.getLong("id") > 0, line.encode());
    Instant start = Instant.parse(line.getString("start"));
    assertTrue(line.getString("start").endsWith("Z"), "start in UTC: " + line.encode());
    assertTrue(Math.abs(Duration.between(start, Instant.now()).toSeconds()) < 60, line.encode());
    long connect = line.getLong("upstream_connect_ms");
    long handshake = line.getLong("handshake_ms");
    long duration = line.getLong("duration_ms");
    assertTrue(handshake >= 0 && handshake <= duration, line.encode());
    assertTrue(connect >= 0 && connect <= duration, line.encode());
    assertTrue(duration <= tookMs, "duration_ms " + duration + " longer than the client saw: " + tookMs);
  }

  /**
   * The JDK client refuses to send such a name, so a real ClientHello for a placeholder of the same length is
   * recorded and the name replaced in place: every length field stays right.
   */
  @Test
  void serverNameWithQuotesAndBackslashesStaysValidJson() throws Exception {
    String sni = "we\"ird\\na\u0001\",\"close\":\"forged\"}.test";
    String placeholder = "a".repeat(sni.length() - ".test".length()) + ".test";
    byte[] hello = Clients.recordClientHello(TestPki.clientContext(ca, null), placeholder);
    int at = indexOf(hello, placeholder.getBytes(StandardCharsets.US_ASCII));
    assertTrue(at > 0, "placeholder name in the recorded ClientHello");
    System.arraycopy(sni.getBytes(StandardCharsets.US_ASCII), 0, hello, at, sni.length());
    try (Socket s = Clients.plain(jsonProxy.port("json"))) {
      s.getOutputStream().write(hello);
      s.getOutputStream().flush();
      // Whether the TLS engine goes on or refuses the name, the proxy has read it; hang up after its answer.
      try {
        s.getInputStream().read();
      } catch (SocketException reset) {
        // refused with a reset: answered all the same
      }
      s.close();
      JsonObject line = jsonLine(s);
      assertEquals(sni, line.getString("sni"), line.encode());
      assertEquals("json", line.getString("listener"), line.encode());
      assertTrue(line.getString("close").startsWith("handshake_failed:"), line.encode());
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void textLineCarriesHandshakeTime() throws Exception {
    try (SSLSocket s = tls(textProxy.port("text"), "log.test".getBytes(StandardCharsets.US_ASCII))) {
      byte[] request = "hello".getBytes(StandardCharsets.US_ASCII);
      assertEquals(REPLY_SIZE, Clients.requestReply(s, request).length);
      String line = logs.closingLine("text", s);
      assertTrue(line.matches(".* handshake_ms=\\d+ .*"), line);
      assertTrue(line.contains(" sni=log.test "), line);
      assertTrue(line.contains(" bytes_to_upstream=5 "), line);
      assertTrue(line.contains(" bytes_to_downstream=" + REPLY_SIZE + " "), line);
      assertTrue(line.endsWith(" close=completed"), line);
    }
  }
}
