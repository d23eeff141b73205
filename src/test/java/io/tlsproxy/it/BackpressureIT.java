package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A fast writer and a reader that stops: the proxy must stop reading from the writer instead of buffering, so
 * its memory stays flat however much the writer has to send. The proxy runs in its own JVM with heap and direct
 * memory capped at 64 MiB each, so that its resident memory can be measured alone.
 */
class BackpressureIT {

  private static final long TOTAL = 1024L * 1024 * 1024;
  private static final int CHUNK = 64 * 1024;
  /** Socket buffers on both legs plus the relay's write watermark hold a few MiB; 64 MiB is far beyond that. */
  private static final long MAX_BYTES_WHILE_PAUSED = 64L * 1024 * 1024;
  /**
   * Heap and direct memory are capped at 64 MiB each; the JVM itself (metaspace, code cache, thread stacks, GC)
   * takes around 75-100 MB more for a proxy like this one. 300 MB leaves room for that noise and is still a small
   * fraction of the 1 GiB that buffering the stalled stream would take.
   */
  private static final long MAX_RSS = 300L * 1000 * 1000;

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();

  /** Which side writes the gigabyte; the other side is the reader that pauses. */
  enum Direction {
    CLIENT_TO_BACKEND, BACKEND_TO_CLIENT
  }

  @ParameterizedTest
  @EnumSource(Direction.class)
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void pausedReaderStallsWriterAndProxyMemoryStaysBounded(Direction direction) throws Exception {
    boolean upload = direction == Direction.CLIENT_TO_BACKEND;
    CountDownLatch resume = new CountDownLatch(1);
    AtomicLong written = new AtomicLong();
    AtomicLong received = new AtomicLong();
    CompletableFuture<String> sentSha = new CompletableFuture<>();
    CompletableFuture<String> receivedSha = new CompletableFuture<>();
    TestServer.Behaviour backendRole = upload
        ? (s, server) -> readLater(s, resume, received, receivedSha)
        : (s, server) -> write(s, written, sentSha);
    TestServer backend = fx.backend(backendRole);
    ProxyProcess proxy = fx.startProcess("""
        listeners:
          - name: bulk
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d]}
        """.formatted(backend.port()), 1);
    try (Socket client = Clients.plain(proxy.port("bulk"))) {
      RssMonitor rss = new RssMonitor(proxy);
      CompletableFuture.runAsync(upload
          ? () -> write(client, written, sentSha)
          : () -> readLater(client, resume, received, receivedSha));

      long stalledAt = awaitStall(written, Duration.ofSeconds(1), Duration.ofSeconds(60));
      long rssPaused = proxy.rssBytes();
      System.out.printf("backpressure %s: writer stalled after %,d bytes; proxy RSS while paused %,d bytes%n",
          direction, stalledAt, rssPaused);
      assertTrue(stalledAt < MAX_BYTES_WHILE_PAUSED, "writer was not held back: " + stalledAt + " bytes written");
      assertEquals(0, received.get(), "the reader has not read yet");
      assertTrue(rssPaused < MAX_RSS, "proxy RSS while paused: " + rssPaused);
      assertTrue(proxy.isAlive(), "proxy process alive while paused");

      resume.countDown();
      String sent = sentSha.get(3, TimeUnit.MINUTES);
      assertEquals(sent, receivedSha.get(1, TimeUnit.MINUTES), "SHA-256 of what the reader received");
      assertEquals(TOTAL, received.get());
      if (upload) {
        assertEquals(-1, client.getInputStream().read(), "the backend's end reaches the client");
      } else {
        client.shutdownOutput(); // the connection is half-closed until the client ends its side too
      }
      rss.stop();
      System.out.printf("backpressure %s: peak proxy RSS over the transfer %,d bytes%n", direction, rss.peak());
      assertTrue(rss.peak() < MAX_RSS, "peak proxy RSS: " + rss.peak());
      assertTrue(proxy.isAlive(), "proxy process alive after the transfer");
      String line = proxy.awaitLine(Duration.ofSeconds(15), "connection listener=bulk ");
      String count = upload ? " bytes_to_upstream=" : " bytes_to_downstream=";
      assertTrue(line.contains(count + TOTAL + " "), line);
    }
  }

  /**
   * Writes {@link #TOTAL} pseudo-random bytes, counting progress in {@code written}, then ends the stream;
   * completes {@code sha} with their SHA-256, or with the failure.
   */
  private static void write(Socket s, AtomicLong written, CompletableFuture<String> sha) {
    try {
      MessageDigest md = Clients.sha256();
      // A few random blocks, each stamped with its sequence number, are cheaper than a random gigabyte.
      byte[][] blocks = new byte[8][CHUNK];
      Random r = new Random(42);
      for (byte[] b : blocks) {
        r.nextBytes(b);
      }
      OutputStream out = s.getOutputStream();
      for (long i = 0; i < TOTAL / CHUNK; i++) {
        byte[] b = blocks[(int) (i % blocks.length)];
        for (int k = 0; k < 8; k++) {
          b[k] = (byte) (i >>> (8 * k));
        }
        out.write(b);
        md.update(b);
        written.addAndGet(b.length);
      }
      out.flush();
      s.shutdownOutput();
      sha.complete(HexFormat.of().formatHex(md.digest()));
    } catch (IOException | RuntimeException e) {
      sha.completeExceptionally(new IOException("writer failed after " + written.get() + " bytes", e));
    }
  }

  /**
   * Reads nothing until {@code resume}, then the first 32 MiB slowly in small reads with pauses, then the rest as
   * fast as it comes; completes {@code sha} with the SHA-256 of what it read, or with the failure.
   */
  private static void readLater(Socket s, CountDownLatch resume, AtomicLong received,
                                CompletableFuture<String> sha) {
    try {
      if (!resume.await(3, TimeUnit.MINUTES)) {
        throw new IOException("never resumed");
      }
      s.setSoTimeout(Clients.TIMEOUT_MS);
      MessageDigest md = Clients.sha256();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[CHUNK];
      long slowUntil = 32L * 1024 * 1024;
      int n;
      for (long reads = 1; (n = in.read(buf, 0, received.get() < slowUntil ? 4096 : buf.length)) > 0; reads++) {
        md.update(buf, 0, n);
        if (received.addAndGet(n) < slowUntil && reads % 64 == 0) {
          Thread.sleep(20); // slow: at most 4 KiB x 64 = 256 KiB per 20 ms
        }
      }
      sha.complete(HexFormat.of().formatHex(md.digest()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      sha.completeExceptionally(e);
    } catch (IOException | RuntimeException e) {
      sha.completeExceptionally(e);
    }
  }

  /**
   * Polls {@code progress} until it has not grown for {@code quiet}; returns its value then. Fails if it keeps
   * growing until {@code deadline}.
   */
  private static long awaitStall(AtomicLong progress, Duration quiet, Duration deadline) throws InterruptedException {
    long end = System.nanoTime() + deadline.toNanos();
    long last = -1;
    long since = System.nanoTime();
    while (System.nanoTime() < end) {
      long now = progress.get();
      if (now != last) {
        last = now;
        since = System.nanoTime();
      } else if (now > 0 && System.nanoTime() - since >= quiet.toNanos()) {
        return now;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("writer never stalled within " + deadline + "; wrote " + progress.get() + " bytes");
  }

  /** Samples the proxy's resident memory every 200 ms and keeps the peak. */
  private static final class RssMonitor {
    private final AtomicLong peak = new AtomicLong();
    private final Thread thread;
    private volatile boolean stop;

    RssMonitor(ProxyProcess proxy) {
      thread = new Thread(() -> {
        // bounded by the test's own timeout, and by the process: its /proc entry goes when it exits
        while (!stop && proxy.isAlive()) {
          try {
            peak.accumulateAndGet(proxy.rssBytes(), Math::max);
            Thread.sleep(200);
          } catch (IOException | InterruptedException e) {
            return;
          }
        }
      }, "rss-monitor");
      thread.setDaemon(true);
      thread.start();
    }

    void stop() throws InterruptedException {
      stop = true;
      thread.join(5_000);
    }

    long peak() {
      return peak.get();
    }
  }
}
