package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a TLS listener does with clients that do not speak TLS properly: each such connection is closed with a
 * logged reason, and nothing else is disturbed, neither a TLS connection relaying at the same time nor the
 * next client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputIT {

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private SSLContext client;
  private ProxyHarness proxy;
  private LogCapture logs;
  /** A real ClientHello record, as the JDK client sends it to proxy.test. */
  private byte[] clientHello;
  private Bystander bystander;
  /** Netty's warnings about errors that no handler took, which the proxy must never leave to Netty. */
  private final List<String> unhandled = new CopyOnWriteArrayList<>();
  private final Handler unhandledCapture = new Handler() {
    @Override
    public void publish(LogRecord r) {
      if (String.valueOf(r.getMessage()).contains("tail of the pipeline")) {
        unhandled.add(r.getMessage());
      }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  };

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("hostile-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    client = TestPki.clientContext(ca, null);
    TestServer echo = fx.echoBackend();
    logs = fx.logs();
    Logger.getLogger("io.netty").addHandler(unhandledCapture);
    fx.closing(() -> Logger.getLogger("io.netty").removeHandler(unhandledCapture));
    proxy = fx.start("""
        listeners:
          - name: tls
            listen: 127.0.0.1:0
            tls: {%s}
            upstream: {endpoints: [127.0.0.1:%d]}
        """.formatted(ProxyFixture.certificates(proxyCert), echo.port()));
    clientHello = Clients.recordClientHello(client, "proxy.test");
  }

  @BeforeEach
  void startBystander() throws Exception {
    bystander = new Bystander(Clients.tls(client, proxy.port("tls"), "proxy.test"));
  }

  @AfterEach
  void stopBystander() throws Exception {
    bystander.close();
    assertEquals(List.of(), unhandled, "errors that reached the end of a channel's pipeline unhandled");
  }

  @Test
  void plaintextOnTlsPortIsClosedAndNextTlsClientIsServed() throws Exception {
    long before = bystander.rounds();
    try (Socket s = Clients.plain(proxy.port("tls"))) {
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: proxy.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      Clients.discardUntilEnd(s); // a TLS alert may come first
      String line = logs.closingLine("tls", s);
      assertTrue(line.endsWith(" close=handshake_failed:not_tls"), line);
    }
    try (SSLSocket s = Clients.tls(client, proxy.port("tls"), "proxy.test")) {
      byte[] msg = "served after the garbage".getBytes(StandardCharsets.US_ASCII);
      assertArrayEquals(msg, Clients.echo(s, msg));
    }
    bystander.assertStillRelaying(before);
  }

  @Test
  void truncatedClientHelloClosesOnlyThatConnection() throws Exception {
    long before = bystander.rounds();
    try (Socket s = Clients.plain(proxy.port("tls"))) {
      s.getOutputStream().write(clientHello, 0, 50);
      s.getOutputStream().flush();
      s.shutdownOutput();
      Clients.discardUntilEnd(s); // a TLS alert may come first
      String line = logs.closingLine("tls", s);
      assertTrue(line.endsWith(" close=handshake_failed:peer_closed"), line);
    }
    bystander.assertStillRelaying(before);
  }

  @Test
  void resetInTheMiddleOfHandshakeClosesOnlyThatConnection() throws Exception {
    long before = bystander.rounds();
    Socket s = Clients.plain(proxy.port("tls"));
    try {
      s.getOutputStream().write(clientHello);
      s.getOutputStream().flush();
      // The ServerHello is on its way: the proxy is mid-handshake.
      assertTrue(s.getInputStream().read() >= 0, "the proxy answers the ClientHello");
      s.setSoLinger(true, 0);
    } finally {
      s.close(); // with linger 0: a TCP RST instead of a FIN
    }
    String line = logs.closingLine("tls", s); // a closed socket still knows its local port
    assertTrue(line.contains(" close=handshake_failed:"), line);
    bystander.assertStillRelaying(before);
  }

  /**
   * A TLS client that keeps echoing 16 KiB messages through the proxy on its own thread, so that a test can
   * check the hostile connection disturbed it in no way.
   */
  private static final class Bystander implements AutoCloseable {
    private static final int MAX_ROUNDS = 1_000_000;
    private final SSLSocket socket;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong rounds = new AtomicLong();
    private final CompletableFuture<Void> loop;

    Bystander(SSLSocket socket) {
      this.socket = socket;
      this.loop = CompletableFuture.runAsync(this::run);
    }

    private void run() {
      Random r = new Random(1);
      byte[] msg = new byte[16 * 1024];
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      try {
        while (!stop.get() && rounds.get() < MAX_ROUNDS && System.nanoTime() < deadline) {
          r.nextBytes(msg);
          if (!Arrays.equals(msg, Clients.echo(socket, msg))) {
            throw new AssertionError("bystander got different bytes back in round " + rounds.get());
          }
          rounds.incrementAndGet();
        }
      } catch (IOException e) {
        throw new IllegalStateException("bystander connection failed after " + rounds.get() + " rounds", e);
      }
    }

    long rounds() {
      return rounds.get();
    }

    /** Its connection kept relaying: more rounds since {@code before}, and no error. */
    void assertStillRelaying(long before) {
      Await.until("the bystander connection to make progress", Duration.ofSeconds(10),
          () -> loop.isDone() || rounds.get() > before + 10);
      if (loop.isCompletedExceptionally()) {
        loop.join(); // throws the bystander's failure
      }
      assertTrue(rounds.get() > before + 10, "bystander rounds: " + before + " -> " + rounds.get());
    }

    @Override
    public void close() throws Exception {
      stop.set(true);
      try {
        loop.get(Clients.TIMEOUT_MS, TimeUnit.MILLISECONDS);
      } finally {
        socket.close();
      }
    }
  }
}
