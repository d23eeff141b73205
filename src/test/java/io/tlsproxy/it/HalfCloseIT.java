package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.tls.engine.TlsHalfClose;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A half-closed connection keeps carrying bytes the other way, in every listener mode: a client that has
 * finished sending still gets the whole reply, and a backend that has finished sending still gets the client's
 * later bytes. On a TLS leg the end of one direction is a TLS 1.3 close_notify (RFC 8446 section 6.1), which
 * closes only that direction.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HalfCloseIT {

  private static final int REPLY_SIZE = 4 * 1024 * 1024;
  private static final byte[] GREETING = "hello from the backend, which will not say more\n"
      .getBytes(StandardCharsets.US_ASCII);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private SSLContext client;
  private final BlockingQueue<String> receivedAfterGreeting = new LinkedBlockingQueue<>();
  /** Releases replies of the holder backend, which keeps a connection half-closed till then. */
  private final Semaphore holderReplies = new Semaphore(0);
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("half-close-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    TestPki.Issued backendCert = pki.server(ca, "backend.test", "backend.test");
    client = TestPki.clientContext(ca, null);
    TestServer plainReplier = fx.backend(HalfCloseIT::replyAfterRequestEnds);
    TestServer tlsReplier = fx.tlsBackend(backendCert, null, HalfCloseIT::replyAfterRequestEnds);
    TestServer plainGreeter = fx.backend(this::greetThenListen);
    // Replies like plainReplier, but only once the test releases it: the connection stays half-closed till then.
    TestServer plainHolder = fx.backend(this::replyWhenReleased);
    TestServer tlsGreeter = fx.tlsBackend(backendCert, null, this::greetThenListen);
    logs = fx.logs();
    // Every mode on both engines, whatever the default. Netty's OpenSSL engine answers a peer's close_notify with
    // its own unless told not to (TlsHalfClose), so both directions of a TLS half-close are checked on it too.
    StringBuilder yaml = new StringBuilder("listeners:\n");
    for (String engine : new String[] {"jdk", "openssl"}) {
      String serverTls = "{" + ProxyFixture.certificates(proxyCert) + ", engine: " + engine + "}";
      String upstreamTls = "{serverName: backend.test, ca: %s, engine: %s}".formatted(ca.certFile(), engine);
      for (String kind : new String[] {"reply", "greet"}) {
        int plainPort = kind.equals("reply") ? plainReplier.port() : plainGreeter.port();
        int tlsPort = kind.equals("reply") ? tlsReplier.port() : tlsGreeter.port();
        for (String mode : new String[] {"plain-to-plain", "tls-to-plain", "plain-to-tls", "tls-to-tls"}) {
          boolean tlsIn = mode.startsWith("tls");
          boolean tlsOut = mode.endsWith("tls");
          yaml.append("  - name: ").append(kind).append('-').append(mode).append('-').append(engine).append('\n')
              .append("    listen: 127.0.0.1:0\n")
              .append(tlsIn ? "    tls: " + serverTls + "\n" : "")
              .append("    upstream: {endpoints: [127.0.0.1:").append(tlsOut ? tlsPort : plainPort).append(']')
              .append(tlsOut ? ", tls: " + upstreamTls : "").append("}\n");
        }
      }
      yaml.append("  - {name: hold-tls-to-plain-").append(engine).append(", listen: 127.0.0.1:0, tls: ")
          .append(serverTls).append(", upstream: {endpoints: [127.0.0.1:").append(plainHolder.port())
          .append("]}}\n");
    }
    proxy = fx.start(yaml.toString());
  }

  /** Reads the request until the client has finished sending, then answers with 4 MiB derived from it. */
  private static void replyAfterRequestEnds(Socket s, TestServer server) throws IOException {
    byte[] request = Clients.readAll(s.getInputStream());
    server.received(request.length);
    OutputStream out = s.getOutputStream();
    out.write(replyTo(request));
    out.flush();
  }

  private void replyWhenReleased(Socket s, TestServer server) throws IOException {
    byte[] request = Clients.readAll(s.getInputStream());
    try {
      if (!holderReplies.tryAcquire(Clients.TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    s.getOutputStream().write(replyTo(request));
    s.getOutputStream().flush();
  }

  private static byte[] readUntilEndOrReset(Socket s) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[64 * 1024];
    try {
      for (int n; (n = s.getInputStream().read(buf)) >= 0; ) {
        got.write(buf, 0, n);
      }
    } catch (SocketException e) {
      assertTrue(String.valueOf(e.getMessage()).contains("reset"), "not a reset: " + e);
    }
    return got.toByteArray();
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
  @ValueSource(strings = {"plain-to-plain-jdk", "tls-to-plain-jdk", "plain-to-tls-jdk", "tls-to-tls-jdk",
      "tls-to-plain-openssl", "plain-to-tls-openssl", "tls-to-tls-openssl"})
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

  @ParameterizedTest
  @ValueSource(strings = {"plain-to-plain-jdk", "tls-to-plain-jdk", "plain-to-tls-jdk", "tls-to-tls-jdk",
      "tls-to-plain-openssl", "plain-to-tls-openssl", "tls-to-tls-openssl"})
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

  /**
   * Nothing may follow a close_notify, and a TLS engine keeps whatever does in its handler's buffer. The proxy
   * stops reading a client after its close_notify, so what the client sends after it stays in the kernel's
   * buffers, not in the proxy's memory, while the reply is still on its way. The whole reply is sent; as the
   * proxy closes a socket with unread bytes, the kernel resets it, so the client may see a reset before the
   * end of the reply, but never a clean end of a partial reply.
   */
  @ParameterizedTest
  @ValueSource(strings = {"jdk", "openssl"})
  void bytesAfterCloseNotifyAreNotRead(String engine) throws Exception {
    String listener = "hold-tls-to-plain-" + engine;
    int port = proxy.port(listener);
    byte[] request = randomBytes(1000, engine.hashCode());
    // Well-formed TLS application_data records, so that nothing before the engine rejects them.
    byte[] record = randomBytes(5 + 16_384, 3);
    System.arraycopy(new byte[] {23, 3, 3, 0x40, 0}, 0, record, 0, 5);
    long limit = 256L * 1024 * 1024;
    AtomicLong written = new AtomicLong();
    ExecutorService writer = Executors.newSingleThreadExecutor();
    try (Socket tcp = new Socket()) {
      tcp.connect(new InetSocketAddress("127.0.0.1", port), Clients.TIMEOUT_MS);
      tcp.setSoTimeout(Clients.TIMEOUT_MS);
      // Layered over tcp, so that shutdownOutput sends close_notify and no FIN: tcp can go on sending.
      SSLSocket tls = (SSLSocket) client.getSocketFactory().createSocket(tcp, "proxy.test", port, false);
      tls.startHandshake();
      tls.getOutputStream().write(request);
      tls.getOutputStream().flush();
      tls.shutdownOutput();
      Future<?> junk = writer.submit(() -> {
        while (written.get() < limit) {
          tcp.getOutputStream().write(record);
          written.addAndGet(record.length);
        }
        return null;
      });
      // The writer stops when the kernel's buffers between it and the proxy are full, far below the limit.
      long[] seen = {-1, 0}; // the count, and when it last changed
      Await.until("the writer to block", Duration.ofSeconds(10), () -> {
        long now = written.get();
        if (now != seen[0]) {
          seen[0] = now;
          seen[1] = System.nanoTime();
        }
        return junk.isDone() || System.nanoTime() - seen[1] > Duration.ofMillis(300).toNanos();
      });
      assertFalse(junk.isDone(), "the writer ended after " + written.get() + " bytes");
      assertTrue(written.get() < 64L * 1024 * 1024, "bytes taken after the close_notify: " + written.get());
      holderReplies.release();
      // Whatever the client gets is the reply or its beginning: the proxy sends it all (the log line below), but
      // closing a socket with unread bytes makes the kernel reset it, which can cut the tail.
      byte[] got = readUntilEndOrReset(tls);
      assertArrayEquals(Arrays.copyOf(replyTo(request), got.length), got, "reply after close_notify");
      String line = logs.closingLine(listener, tls);
      assertTrue(line.contains(" bytes_to_downstream=" + REPLY_SIZE + " "), line);
      assertTrue(line.endsWith(" close=completed"), line);
    } finally {
      writer.shutdownNow();
      assertTrue(writer.awaitTermination(Clients.TIMEOUT_MS, TimeUnit.MILLISECONDS), "writer ended");
    }
  }
}
