package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A half-closed connection keeps carrying bytes the other way, in every listener mode: a client that has
 * finished sending still gets the whole reply, and a backend that has finished sending still gets the client's
 * later bytes. On a TLS leg the end of one direction is a TLS 1.3 close_notify (RFC 8446 section 6.1), which
 * closes only that direction.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HalfCloseTest {

  private static final int REPLY_SIZE = 4 * 1024 * 1024;
  private static final byte[] GREETING = "hello from the backend, which will not say more\n"
      .getBytes(StandardCharsets.US_ASCII);

  @TempDir
  static Path dir;
  private SSLContext client;
  private final BlockingQueue<String> receivedAfterGreeting = new LinkedBlockingQueue<>();
  private TestServer plainReplier;
  private TestServer tlsReplier;
  private TestServer plainGreeter;
  private TestServer tlsGreeter;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = new TestPki(dir);
    TestPki.Issued ca = pki.ca("half-close-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    SSLContext backendCtx = TestPki.serverContext(pki.server(ca, "backend.test", "backend.test"), null);
    client = TestPki.clientContext(ca, null);
    plainReplier = TestServer.plain(HalfCloseTest::replyAfterRequestEnds);
    tlsReplier = TestServer.tls(backendCtx, false, HalfCloseTest::replyAfterRequestEnds);
    plainGreeter = TestServer.plain(this::greetThenListen);
    tlsGreeter = TestServer.tls(backendCtx, false, this::greetThenListen);
    logs = new LogCapture();
    // engine: jdk on every TLS leg, whatever the default: Netty's OpenSSL engine answers a peer's close_notify
    // with its own and refuses to send more, so TLS 1.3 half-close needs the JDK engine (see OpensslEngineTest).
    String serverTls = "{certificates: [{cert: %s, key: %s}], engine: jdk}".formatted(proxyCert.certFile(),
        proxyCert.keyFile());
    String upstreamTls = "{serverName: backend.test, ca: %s, engine: jdk}".formatted(ca.certFile());
    StringBuilder yaml = new StringBuilder("listeners:\n");
    // The direction the OpenSSL engine does carry: tlsproxy half-closes the TLS leg (its close_notify), the peer
    // goes on sending. That engine reports reads after our close_notify as CLOSED; the relay must not take that
    // for the peer's close_notify. (The other direction, the peer's close_notify first, it cannot carry.)
    yaml.append("  - {name: greet-tls-to-plain-openssl, listen: 127.0.0.1:0, tls: ")
        .append(serverTls.replace("engine: jdk", "engine: openssl"))
        .append(", upstream: {endpoints: [127.0.0.1:").append(plainGreeter.port()).append("]}}\n");
    yaml.append("  - {name: reply-tls-to-plain-openssl, listen: 127.0.0.1:0, tls: ")
        .append(serverTls.replace("engine: jdk", "engine: openssl"))
        .append(", upstream: {endpoints: [127.0.0.1:").append(plainReplier.port()).append("]}}\n");
    yaml.append("  - {name: reply-plain-to-tls-openssl, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:")
        .append(tlsReplier.port()).append("], tls: ").append(upstreamTls.replace("engine: jdk", "engine: openssl"))
        .append("}}\n");
    for (String kind : new String[] {"reply", "greet"}) {
      int plainPort = kind.equals("reply") ? plainReplier.port() : plainGreeter.port();
      int tlsPort = kind.equals("reply") ? tlsReplier.port() : tlsGreeter.port();
      for (String mode : new String[] {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls"}) {
        boolean tlsIn = mode.startsWith("tls");
        boolean tlsOut = mode.endsWith("tls");
        yaml.append("  - name: ").append(kind).append('-').append(mode).append('\n')
            .append("    listen: 127.0.0.1:0\n")
            .append(tlsIn ? "    tls: " + serverTls + "\n" : "")
            .append("    upstream: {endpoints: [127.0.0.1:").append(tlsOut ? tlsPort : plainPort).append(']')
            .append(tlsOut ? ", tls: " + upstreamTls : "").append("}\n");
      }
    }
    proxy = ProxyHarness.start(dir, yaml.toString());
  }

  @AfterAll
  void stop() throws Exception {
    proxy.close();
    for (TestServer s : new TestServer[] {plainReplier, tlsReplier, plainGreeter, tlsGreeter}) {
      s.close();
    }
    logs.close();
  }

  /** Reads the request until the client has finished sending, then answers with 4 MiB derived from it. */
  private static void replyAfterRequestEnds(Socket s, TestServer server) throws IOException {
    byte[] request = Clients.readAll(s.getInputStream());
    server.received(request.length);
    OutputStream out = s.getOutputStream();
    out.write(replyTo(request));
    out.flush();
  }

  /** Greets and finishes sending at once, then reads until the client finishes and records what it sent. */
  private void greetThenListen(Socket s, TestServer server) throws IOException {
    s.getOutputStream().write(GREETING);
    s.getOutputStream().flush();
    s.shutdownOutput();
    byte[] rest = Clients.readAll(s.getInputStream());
    server.received(rest.length);
    receivedAfterGreeting.add(sha256(rest));
  }

  private static byte[] replyTo(byte[] request) {
    long seed = ByteBuffer.wrap(Clients.sha256().digest(request)).getLong();
    byte[] reply = new byte[REPLY_SIZE];
    new Random(seed).nextBytes(reply);
    return reply;
  }

  private static String sha256(byte[] data) {
    return HexFormat.of().formatHex(Clients.sha256().digest(data));
  }

  private static byte[] randomBytes(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private Socket connect(String listener) throws IOException {
    int port = proxy.port(listener);
    return listener.contains("-tls-to-") ? Clients.tls(client, port, "proxy.test") : Clients.plain(port);
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls", "plain-to-tls-openssl"})
  void clientThatFinishedSendingStillGetsWholeReply(String mode) throws Exception {
    String listener = "reply-" + mode;
    byte[] request = randomBytes(100_000, mode.hashCode());
    try (Socket s = connect(listener)) {
      // shutdownOutput: FIN on a plain socket; on a TLS 1.3 socket, close_notify and then FIN.
      byte[] reply = Clients.requestReply(s, request);
      assertEquals(REPLY_SIZE, reply.length, "reply length");
      assertArrayEquals(replyTo(request), reply, "reply content");
      String line = logs.closingLine(listener, s);
      assertTrue(line.contains(" bytes_to_upstream=" + request.length + " "), line);
      assertTrue(line.contains(" bytes_to_downstream=" + REPLY_SIZE + " "), line);
      assertTrue(line.endsWith(" close=completed"), line);
    }
  }

  /**
   * The limit that keeps the JDK engine the default, checked so that a Netty release that lifts it is noticed:
   * the OpenSSL engine answers the client's close_notify with its own at once, so the reply never reaches it.
   * If this fails, consider making OpenSSL the default engine (docs/performance.md, "Why the JDK engine stays").
   */
  @Test
  void opensslEngineStillEndsTheReplyWhenTheClientHalfCloses() throws Exception {
    try (Socket s = connect("reply-tls-to-plain-openssl")) {
      byte[] reply;
      try {
        reply = Clients.requestReply(s, randomBytes(1000, 1));
      } catch (IOException e) {
        reply = new byte[0]; // a reset after the close_notify: no reply either
      }
      assertTrue(reply.length < REPLY_SIZE, "the OpenSSL engine delivered the whole reply to a half-closed client");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls", "tls-to-plain-openssl"})
  void backendThatFinishedSendingStillGetsClientsLaterBytes(String mode) throws Exception {
    String listener = "greet-" + mode;
    byte[] later = randomBytes(1024 * 1024, mode.hashCode());
    receivedAfterGreeting.clear();
    try (Socket s = connect(listener)) {
      // The greeting, then end of stream: the backend has finished sending.
      assertArrayEquals(GREETING, Clients.readAll(s.getInputStream()), "greeting");
      s.getOutputStream().write(later);
      s.getOutputStream().flush();
      s.shutdownOutput();
      String got = receivedAfterGreeting.poll(Clients.TIMEOUT_MS, TimeUnit.MILLISECONDS);
      assertEquals(sha256(later), got, "what the backend received after its own end of stream");
      String line = logs.closingLine(listener, s);
      assertTrue(line.contains(" bytes_to_upstream=" + later.length + " "), line);
      assertTrue(line.contains(" bytes_to_downstream=" + GREETING.length + " "), line);
      assertTrue(line.endsWith(" close=completed"), line);
    }
  }
}
