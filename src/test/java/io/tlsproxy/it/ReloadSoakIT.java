package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TlsAttempt;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Reloading forever keeps nothing: 10,000 forced reloads of a listener whose CRL is past its nextUpdate each log that
 * warning exactly once (nothing collects the warnings), the heap after the last is where it was after the first
 * thousand, and the listener still serves.
 */
class ReloadSoakIT {

  private static final int WARM = 1_000;
  private static final int RELOADS = 10_000;
  /** A kept warning line is ~200 bytes: 9,000 of them would be ~1.8 MiB, several times this bound. */
  private static final long MAX_GROWTH = 512 * 1024;

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();

  @Test
  @Timeout(300)
  void tenThousandReloadsLogEachWarningOnceAndKeepNothing() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("soak-ca");
    TestPki.Issued server = pki.server(ca, "web.test", "web.test");
    TestPki.Issued clientCa = pki.ca("soak-client-ca");
    TestPki.Issued client = pki.client(clientCa, "alice");
    // A CRL whose nextUpdate has passed: still used, and warned about at every build.
    Path crl = pki.crl(clientCa, Instant.now().minus(Duration.ofHours(1)), true);
    ProxyHarness proxy = fx.start("""
        reload: {checkInterval: 0s}
        listeners:
          - {name: web, listen: 127.0.0.1:0, tls: {certificates: [{cert: %s, key: %s}], clientAuth: required,
             clientCa: %s, crl: %s}, upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(server.certFile(), server.keyFile(), clientCa.certFile(), crl, fx.echoBackend().port()));
    for (int i = 0; i < WARM; i++) {
      assertEquals(1, proxy.reloadCertificates());
    }
    long warmHeap = settledHeap();
    long warnedBefore = CRL_WARNINGS.count.get();
    for (int i = WARM; i < RELOADS; i++) {
      assertEquals(1, proxy.reloadCertificates());
    }
    long growth = settledHeap() - warmHeap;
    assertEquals(RELOADS - WARM, CRL_WARNINGS.count.get() - warnedBefore, "one CRL warning per reload, none kept");
    assertTrue(growth < MAX_GROWTH, "heap grew by " + growth + " bytes over " + (RELOADS - WARM) + " reloads");
    SSLContext alice = TestPki.clientContextPresentingAnyway(ca, client);
    try (TlsAttempt a = TlsAttempt.echo(alice, proxy.port("web"), "web.test",
        "ping".getBytes(StandardCharsets.US_ASCII))) {
      assertTrue(a.succeeded(), "still serving after " + RELOADS + " reloads");
    }
  }

  /** Counts the CRL warnings logged, keeping no record (a list of lines would itself grow the heap). */
  private static final class CountingHandler extends Handler {
    final AtomicLong count = new AtomicLong();

    @Override
    public void publish(LogRecord r) {
      if (r.getLevel() == Level.WARNING && r.getMessage().startsWith("listener web: ")
          && r.getMessage().contains("nextUpdate")) {
        count.incrementAndGet();
      }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  }

  private static final CountingHandler CRL_WARNINGS = new CountingHandler();
  /** Held here: the log manager keeps loggers only weakly, and a collected one would lose the handler. */
  private static final Logger PROXY_LOG = Logger.getLogger("tlsproxy");

  @BeforeAll
  static void countWarnings() {
    PROXY_LOG.addHandler(CRL_WARNINGS);
  }

  @AfterAll
  static void stopCounting() {
    PROXY_LOG.removeHandler(CRL_WARNINGS);
  }

  /** Used heap after full collections, the least of a few (one may run while another thread allocates). */
  private static long settledHeap() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long least = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      memory.gc();
      least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
    }
    return least;
  }
}
