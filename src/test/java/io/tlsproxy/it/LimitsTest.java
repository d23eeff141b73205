package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overload protection: {@code maxConnections} holds under three times as many concurrent clients, in both of its
 * modes; {@code maxHandshakesPerSecond} spreads or refuses a handshake flood without stalling an established
 * transfer on the same listener; running out of file descriptors makes the listener pause, not spin.
 */
class LimitsTest {

  private static final String REJECTED = "tlsproxy_connections_rejected_total";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  static Path dir;
  private static TestPki.Issued proxyCert;
  private static SSLContext client;
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final List<Socket> sockets = new ArrayList<>();

  @BeforeAll
  static void mint() {
    TestPki pki = new TestPki(dir);
    TestPki.Issued ca = pki.ca("limits-ca");
    proxyCert = pki.server(ca, "limits.test", "limits.test");
    client = TestPki.clientContext(ca, null);
  }

  @AfterEach
  void closeClients() throws IOException {
    pool.shutdownNow();
    synchronized (sockets) {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  /** An echo backend that records how many connections it serves at once, and the most it ever did. */
  static final class CountingBackend implements AutoCloseable {
    final AtomicInteger now = new AtomicInteger();
    final AtomicInteger most = new AtomicInteger();
    final TestServer server;

    CountingBackend() throws IOException {
      server = TestServer.plain((s, srv) -> {
        most.accumulateAndGet(now.incrementAndGet(), Math::max);
        try {
          TestServer.echo(s, srv);
        } finally {
          now.decrementAndGet();
        }
      });
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  private Socket connect(int port) throws IOException {
    Socket s = Clients.plain(port);
    synchronized (sockets) {
      sockets.add(s);
    }
    return s;
  }

  /**
   * Sends one byte and waits for its echo: true when it came back through the proxy, false when the proxy closed
   * the connection instead. A read timeout is neither and fails the caller.
   */
  private static boolean probe(Socket s) throws IOException {
    try {
      s.getOutputStream().write('x');
      s.getOutputStream().flush();
      return s.getInputStream().read() == 'x';
    } catch (SocketException closedByProxy) {
      return false;
    }
  }

  private static String plainListener(int backendPort, String limits) {
    return """
        listeners:
          - name: capped
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d]}
            %s
        """.formatted(backendPort, limits);
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void overMaxConnectionsNewConnectionsAreRefusedAndCounted() throws Exception {
    int limit = 4;
    int clients = 3 * limit;
    try (CountingBackend backend = new CountingBackend();
         ProxyHarness proxy = ProxyHarness.start(dir, plainListener(backend.server.port(),
             "maxConnections: " + limit + "\n    overLimit: refuse"))) {
      int port = proxy.port("capped");
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Boolean>> outcomes = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        outcomes.add(pool.submit(() -> {
          go.await();
          return probe(connect(port));
        }));
      }
      go.countDown();
      int served = 0;
      for (Future<Boolean> f : outcomes) {
        served += f.get(WAIT.toSeconds(), TimeUnit.SECONDS) ? 1 : 0;
      }
      int refused = clients - served;
      // The served clients stay connected, so exactly the limit got through and every other one was refused.
      assertEquals(limit, served, "clients served at once");
      assertTrue(backend.most.get() <= limit, "backend saw " + backend.most.get() + " connections at once");
      Await.until("rejected counter = " + refused, WAIT, () -> rejected(proxy, "max_connections") == refused);
      assertEquals(0, rejected(proxy, "max_handshake_rate"));

      closeClients();
      Await.until("a new connection gets through once the others closed", WAIT, () -> {
        try (Socket s = Clients.plain(port)) {
          return probe(s);
        } catch (IOException e) {
          return false;
        }
      });
    }
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void overMaxConnectionsNewConnectionsWaitUntilOthersClose() throws Exception {
    int limit = 4;
    int clients = 3 * limit;
    try (CountingBackend backend = new CountingBackend();
         ProxyHarness proxy = ProxyHarness.start(dir, plainListener(backend.server.port(),
             "maxConnections: " + limit))) {
      int port = proxy.port("capped");
      AtomicInteger served = new AtomicInteger();
      BlockingQueue<CountDownLatch> servedAndHolding = new LinkedBlockingQueue<>();
      List<Future<Boolean>> outcomes = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        outcomes.add(pool.submit(() -> {
          try (Socket s = connect(port)) {
            boolean echoed = probe(s); // waits while the listener is full
            served.incrementAndGet();
            CountDownLatch close = new CountDownLatch(1);
            servedAndHolding.add(close);
            close.await();
            return echoed;
          }
        }));
      }
      Await.until(limit + " clients served", WAIT, () -> served.get() >= limit);
      // The rest wait: give them a moment in which they would get through if the limit did not hold.
      Thread.sleep(300);
      assertEquals(limit, served.get(), "clients served while the listener is full");
      assertEquals(limit, backend.now.get(), "connections relayed to the backend while the listener is full");

      // Closing served clients one at a time lets the waiting ones through, never more than the limit at once.
      for (int i = 0; i < clients; i++) {
        CountDownLatch close = servedAndHolding.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertTrue(close != null, "a waiting client got through after " + i + " closed");
        close.countDown();
      }
      for (Future<Boolean> f : outcomes) {
        assertTrue(f.get(WAIT.toSeconds(), TimeUnit.SECONDS), "every waiting client was served in the end");
      }
      assertEquals(clients, served.get());
      assertTrue(backend.most.get() <= limit, "backend saw " + backend.most.get() + " connections at once");
      assertEquals(0, rejected(proxy, "max_connections"), "nothing is refused in wait mode");
    }
  }

  private static double rejected(ProxyHarness proxy, String reason) {
    return new Scrape(proxy.metrics().scrape(null)).sum(REJECTED, "listener", "capped", "reason", reason);
  }
}
