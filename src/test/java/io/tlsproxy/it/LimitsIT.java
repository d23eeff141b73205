package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.Ports;
import io.tlsproxy.testkit.ProxyFixture;
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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Overload protection: {@code maxConnections} holds under three times as many concurrent clients, in both of its
 * modes; {@code maxHandshakesPerSecond} spreads or refuses a handshake flood without stalling an established
 * transfer on the same listener; running out of file descriptors makes the listener pause, not spin.
 */
class LimitsIT {

  private static final String REJECTED = "tlsproxy_connections_rejected_total";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private static TestPki.Issued proxyCert;
  private static SSLContext client;
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final List<Socket> sockets = new ArrayList<>();

  @BeforeAll
  static void mint() throws IOException {
    TestPki pki = fx.pki();
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

  @ParameterizedTest
  @EnumSource(Transport.class)
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void overMaxConnectionsNewConnectionsAreRefusedAndCounted(Transport transport) throws Exception {
    int limit = 4;
    int clients = 3 * limit;
    CountingBackend backend = fx.closing(new CountingBackend());
    RunningProxy proxy = transport.start(plainListener(backend.server.port(),
        "maxConnections: " + limit + "\n    overLimit: refuse"));
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

  @ParameterizedTest
  @EnumSource(Transport.class)
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void overMaxConnectionsNewConnectionsWaitUntilOthersClose(Transport transport) throws Exception {
    int limit = 4;
    int clients = 3 * limit;
    CountingBackend backend = fx.closing(new CountingBackend());
    RunningProxy proxy = transport.start(plainListener(backend.server.port(), "maxConnections: " + limit));
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

  @Test
  void aLimitAboveTheOpenFileLimitIsWarnedAbout() throws Exception {
    LogCapture log = fx.logs();
    fx.start(plainListener(Ports.unused(), "maxConnections: 2000000000"));
    log.await(l -> l.startsWith("WARNING listener=capped maxConnections=2000000000 needs about 4000000000 open "
        + "files"), WAIT);
  }

  private static String tlsListener(String name, int backendPort, String tlsExtra, String limits) {
    return """
          - name: %s
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %s, key: %s}]%s}
            upstream: {endpoints: [127.0.0.1:%d]}
            %s
        """.formatted(name, proxyCert.certFile(), proxyCert.keyFile(), tlsExtra, backendPort, limits);
  }

  private static SSLSocket tls(int port) throws IOException {
    return Clients.tls(client, port, "limits.test");
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void handshakeFloodOverTheRateDoesNotStallAnEstablishedTransfer() throws Exception {
    int rate = 20;
    long size = 32L << 20;
    TestServer echo = fx.echoBackend();
    ProxyProcess proxy = fx.startProcess("listeners:\n" + tlsListener("edge", echo.port(), "",
        "maxHandshakesPerSecond: " + rate + "\n    overLimit: refuse"), 1);
    try (SSLSocket established = tls(proxy.port("edge"))) {
      int port = proxy.port("edge");
      Timed alone = echoTransfer(established, size);
      Flood flood = new Flood(port, 15 * rate, Clients.recordClientHello(client, "limits.test"));
      Timed flooded;
      try {
        Await.until("the flood is being refused", WAIT, () -> flood.refused.get() >= rate);
        flooded = echoTransfer(established, size);
      } finally {
        flood.stop();
      }
      double seconds = flood.seconds();
      System.out.printf("handshake flood: transfer of %d MiB alone %d ms (longest stall %d ms), under a flood of "
              + "%d ClientHellos in %.1f s (%d answered, %d refused, %d failed to connect) %d ms (longest stall %d ms)%n",
          size >> 20, alone.millis(), alone.maxGapMillis(), flood.attempts.get(), seconds, flood.answered.get(),
          flood.refused.get(), flood.connectFailed.get(), flooded.millis(), flooded.maxGapMillis());

      assertTrue(flood.attempts.get() / seconds >= 4 * rate, "the flood was well over the limit");
      assertEquals(0, flood.unanswered.get(), "ClientHellos neither answered nor refused");
      assertTrue(flooded.millis() <= 3 * alone.millis() + 1000,
          "transfer under the flood took " + flooded.millis() + " ms, alone " + alone.millis() + " ms");
      assertTrue(flooded.maxGapMillis() < 1000, "established transfer stalled for " + flooded.maxGapMillis() + " ms");
      assertTrue(flood.answered.get() <= rate + rate * seconds * 1.2 + 2,
          flood.answered.get() + " handshakes answered in " + seconds + " s at a limit of " + rate + "/s");
      assertTrue(flood.refused.get() > 0);
      Await.until("rejected counter = refusals the clients saw (" + flood.refused.get() + ")", WAIT,
          () -> scrape(proxy).sum(REJECTED, "listener", "edge", "reason", "max_handshake_rate")
              == flood.refused.get());
    }
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void handshakesOverTheRateWaitForTheirTurnUpToTheHandshakeTimeout() throws Exception {
    TestServer echo = fx.echoBackend();
    ProxyHarness proxy = fx.start("listeners:\n"
        + tlsListener("queued", echo.port(), "", "maxHandshakesPerSecond: 5")
        + tlsListener("short", echo.port(), ", handshakeTimeout: 2s", "maxHandshakesPerSecond: 2"));
    // 15 at once at 5 per second: 5 at once (the burst), then one every 200 ms: the last after about 2 s.
    long start = System.nanoTime();
    List<Boolean> queued = handshakeAll(proxy.port("queued"), 15);
    long tookMillis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(15, queued.stream().filter(ok -> ok).count(), "every waiting handshake completed");
    assertTrue(tookMillis >= 1800, "15 handshakes at 5/s took only " + tookMillis + " ms");
    assertEquals(0, rejectedOn(proxy, "queued"));

    // 16 at once at 2 per second with a 2 s handshake timeout: 2 at once, about 4 more within 2 s (more if the
    // clients arrive spread out), and the rest, whose turn would be further away than the timeout, closed at once.
    List<Boolean> shortWait = handshakeAll(proxy.port("short"), 16);
    long ok = shortWait.stream().filter(b -> b).count();
    long refused = shortWait.size() - ok;
    assertTrue(ok >= 2, ok + " handshakes completed");
    assertTrue(refused >= 6, refused + " refused");
    Await.until("rejected counter = refusals the clients saw (" + refused + ")", WAIT,
        () -> rejectedOn(proxy, "short") == refused);
  }

  /** Starts {@code n} TLS handshakes at once; each element says whether that one completed and relayed a byte. */
  private List<Boolean> handshakeAll(int port, int n) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Boolean>> outcomes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      outcomes.add(pool.submit(() -> {
        go.await();
        try (SSLSocket s = Clients.tlsBeforeHandshake(client, port, "limits.test", null, null)) {
          try {
            s.startHandshake();
          } catch (IOException refused) {
            return false;
          }
          return probe(s);
        }
      }));
    }
    go.countDown();
    List<Boolean> out = new ArrayList<>();
    for (Future<Boolean> f : outcomes) {
      out.add(f.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    }
    return out;
  }

  private static double rejectedOn(ProxyHarness proxy, String listener) {
    return new Scrape(proxy.metrics().scrape(null)).sum(REJECTED, "listener", listener, "reason",
        "max_handshake_rate");
  }

  private static Scrape scrape(ProxyProcess proxy) {
    try {
      return Scrape.of(proxy.adminPort());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError("scrape failed", e);
    }
  }

  record Timed(long millis, long maxGapMillis) {
  }

  /**
   * Pushes {@code size} bytes through an echo on an established connection, writing and reading at once, and
   * measures how long it took and the longest time between two reads.
   */
  private Timed echoTransfer(Socket s, long size) throws Exception {
    long start = System.nanoTime();
    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
      try {
        byte[] buf = new byte[64 * 1024];
        OutputStream out = s.getOutputStream();
        for (long left = size; left > 0; left -= buf.length) {
          out.write(buf, 0, (int) Math.min(buf.length, left));
        }
        out.flush();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }, pool);
    InputStream in = s.getInputStream();
    byte[] buf = new byte[64 * 1024];
    long read = 0;
    long last = start;
    long maxGap = 0;
    while (read < size) {
      int n = in.read(buf);
      if (n < 0) {
        throw new AssertionError("connection ended after " + read + " of " + size + " bytes");
      }
      long now = System.nanoTime();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      read += n;
    }
    writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    return new Timed((System.nanoTime() - start) / 1_000_000, maxGap / 1_000_000);
  }

  /**
   * A handshake flood as an attacker makes it cheaply: one recorded ClientHello sent again and again from a few
   * threads at a paced total rate, until stopped, for at most a minute and 6,000 attempts. The proxy pays for
   * each answer (key exchange and signature) while the flood pays nothing. Each attempt is answered (the first
   * byte of the server's handshake arrives; the flood then hangs up), refused (closed or reset without a byte),
   * unanswered within the read timeout, or could not connect at all.
   */
  private final class Flood {
    static final int THREADS = 4;
    static final int MAX_ATTEMPTS = 6000;
    final AtomicInteger attempts = new AtomicInteger();
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger refused = new AtomicInteger();
    final AtomicInteger unanswered = new AtomicInteger();
    final AtomicInteger connectFailed = new AtomicInteger();
    final AtomicBoolean stop = new AtomicBoolean();
    final long start = System.nanoTime();
    final List<Future<?>> threads = new ArrayList<>();
    final byte[] clientHello;
    volatile long end;

    Flood(int port, int perSecond, byte[] clientHello) {
      this.clientHello = clientHello;
      long intervalNanos = TimeUnit.SECONDS.toNanos(1) * THREADS / perSecond;
      long deadline = start + TimeUnit.MINUTES.toNanos(1);
      for (int t = 0; t < THREADS; t++) {
        threads.add(pool.submit(() -> {
          long next = System.nanoTime();
          while (!stop.get() && System.nanoTime() < deadline && attempts.incrementAndGet() <= MAX_ATTEMPTS) {
            attempt(port);
            next += intervalNanos;
            long pause = next - System.nanoTime();
            if (pause > 0) {
              TimeUnit.NANOSECONDS.sleep(pause); // pacing the load, not waiting for a condition
            }
          }
          return null;
        }));
      }
    }

    private void attempt(int port) {
      Socket s;
      try {
        s = Clients.plain(port);
      } catch (IOException e) {
        connectFailed.incrementAndGet();
        return;
      }
      try (s) {
        s.getOutputStream().write(clientHello);
        (s.getInputStream().read() >= 0 ? answered : refused).incrementAndGet();
      } catch (java.net.SocketTimeoutException e) {
        unanswered.incrementAndGet();
      } catch (IOException e) {
        refused.incrementAndGet(); // reset: the proxy closed with the ClientHello unread
      }
    }

    void stop() throws Exception {
      stop.set(true);
      for (Future<?> f : threads) {
        f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      }
      end = System.nanoTime();
      attempts.set(Math.min(attempts.get(), MAX_ATTEMPTS)); // the loop's last increment may overshoot
    }

    double seconds() {
      return (end - start) / 1e9;
    }
  }

  /**
   * The proxy in its own JVM, with its open-file limit lowered (prlimit) to just above what it uses, then more
   * clients than that allows: accepts fail with EMFILE. The listener must pause instead of retrying in a busy
   * loop, count and log it (once), and serve again as soon as descriptors are free.
   */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void outOfFileDescriptorsTheListenerPausesInsteadOfSpinningAndRecovers() throws Exception {
    TestServer echo = fx.echoBackend();
    ProxyProcess proxy = fx.startProcess(plainListener(echo.port(), "").replace("capped", "fd"), 1);
    int port = proxy.port("fd");
    // Warm up, so that every class of the connection and scrape paths is loaded and its files are open.
    for (int i = 0; i < 3; i++) {
      try (Socket s = Clients.plain(port)) {
        assertTrue(probe(s));
      }
    }
    scrape(proxy);
    long limit = openFiles(proxy.pid()) + 8;
    run("prlimit", "--pid", Long.toString(proxy.pid()), "--nofile=" + limit + ":" + limit);

    // Each relayed connection takes two descriptors, the client's and the upstream one: 30 need far more.
    for (int i = 0; i < 30; i++) {
      connect(port).getOutputStream().write('x');
    }
    System.out.println(proxy.awaitLine(WAIT, "listener=fd accept failed"));
    long ticksBefore = cpuTicks(proxy.pid());
    long start = System.nanoTime();
    Thread.sleep(2000); // the window over which CPU use is measured
    double seconds = (System.nanoTime() - start) / 1e9;
    double busy = (cpuTicks(proxy.pid()) - ticksBefore) / 100.0 / seconds;
    System.out.printf("out of file descriptors: proxy used %.0f%% of a CPU while accepts failed%n", busy * 100);
    // Measured here: about 10% with the pause, 30-40% (a whole core when the machine is idle) without it.
    assertTrue(busy < 0.2, "proxy busy " + busy + " of a CPU while out of descriptors: spinning");
    assertTrue(proxy.isAlive(), "proxy process alive");

    closeClients();
    Await.until("a new connection is relayed once the clients closed", WAIT, () -> {
      try (Socket s = Clients.plain(port)) {
        s.setSoTimeout(2000);
        return probe(s);
      } catch (IOException e) {
        return false;
      }
    });
    double failedAccepts = scrape(proxy).sum(REJECTED, "listener", "fd", "reason", "accept_error");
    System.out.printf("out of file descriptors: %.0f failed accepts counted%n", failedAccepts);
    assertTrue(failedAccepts > 0, "accept errors counted");
    assertEquals(1, proxy.lines().stream().filter(l -> l.contains("listener=fd accept failed")).count(),
        "accept errors logged once: " + proxy.lines());
  }

  private static long openFiles(long pid) throws IOException {
    try (var files = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      return files.count();
    }
  }

  /** utime + stime of a process in clock ticks (USER_HZ, 100 on Linux), from /proc/PID/stat. */
  private static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    // Fields after the command name, which is in parentheses and may contain spaces: state is field 3.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
    assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
  }

  private static double rejected(RunningProxy proxy, String reason) {
    return proxy.scrape().sum(REJECTED, "listener", "capped", "reason", reason);
  }

  /** A proxy started one of two ways, so that the limiter is tested on both of Netty's accept paths. */
  interface RunningProxy {
    int port(String listener);

    Scrape scrape();
  }

  enum Transport {
    /** In this JVM on Vert.x's default NIO transport, which accepts up to 16 connections per read. */
    NIO {
      @Override
      RunningProxy start(String yaml) throws Exception {
        ProxyHarness p = fx.start(yaml);
        return new RunningProxy() {
          public int port(String listener) {
            return p.port(listener);
          }

          public Scrape scrape() {
            return new Scrape(p.metrics().scrape(null));
          }
        };
      }
    },
    /** In its own JVM as deployed, on native epoll, which hands over each connection as it accepts it. */
    EPOLL {
      @Override
      RunningProxy start(String yaml) throws Exception {
        ProxyProcess p = fx.startProcess(yaml, 1);
        p.awaitLine(WAIT, "started (transport: native)");
        return new RunningProxy() {
          public int port(String listener) {
            return p.port(listener);
          }

          public Scrape scrape() {
            return LimitsIT.scrape(p);
          }
        };
      }
    };

    abstract RunningProxy start(String yaml) throws Exception;
  }
}
