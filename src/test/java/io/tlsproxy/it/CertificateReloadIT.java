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
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.TlsAttempt;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Certificate material changes on disk while the proxy runs: new handshakes get the new material, open
 * connections carry on, and broken material never replaces good material.
 */
class CertificateReloadIT {

  private static final Duration WAIT = Duration.ofSeconds(15);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private Path dir;
  private TestPki pki;
  private TestPki.Issued ca;
  private SSLContext client;
  private TestServer echo;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeEach
  void setUp() throws Exception {
    dir = fx.dir();
    pki = fx.pki();
    ca = pki.ca("reload-ca");
    cert = dir.resolve("server.pem");
    key = dir.resolve("server-key.pem");
    client = TestPki.clientContext(ca, null);
    echo = fx.echoBackend();
    logs = fx.logs();
  }

  private void startTerminating(Path cert, Path key, String extra) throws Exception {
    proxy = fx.start("""
        reload: {checkInterval: 100ms}
        listeners:
          - {name: web, listen: 127.0.0.1:0, %s
             tls: {certificates: [{cert: %s, key: %s}]}, upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(extra, cert, key, echo.port()));
  }

  private BigInteger servedSerial() throws Exception {
    try (SSLSocket s = Clients.tls(client, proxy.port("web"), "web.test")) {
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  private void awaitServed(BigInteger serial) {
    Await.until("new handshakes to get serial " + serial.toString(16), WAIT, () -> {
      try {
        return servedSerial().equals(serial);
      } catch (Exception e) {
        return false;
      }
    });
  }

  private double reloads(String result) throws Exception {
    return Scrape.of(proxy.adminPort()).sum("tlsproxy_tls_reloads_total", "listener", "web", "result", result);
  }

  private void awaitFailedReloads(double atLeast) {
    Await.until(atLeast + " failed reloads to be counted", WAIT, () -> {
      try {
        return reloads("failure") >= atLeast;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** Where the tests keep the served certificate and key: fixed names, rewritten in place. */
  private Path cert;
  private Path key;

  private static Path install(Path from, Path to) throws Exception {
    copy(from, to);
    return to;
  }

  private static void copy(Path from, Path to) throws Exception {
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void rewrittenFilesAreServedToNewConnectionsWhileAnOpenOneKeepsTransferring() throws Exception {
    TestPki.Issued first = pki.server(ca, "web.test", "web.test");
    TestPki.Issued second = pki.server(ca, "web.test", "web.test");
    startTerminating(install(first.certFile(), cert), install(first.keyFile(), key), "");
    assertEquals(first.cert().getSerialNumber(), servedSerial());
    try (SSLSocket open = Clients.tls(client, proxy.port("web"), "web.test")) {
      assertArrayEquals(bytes("before"), Clients.echo(open, bytes("before")));
      copy(second.keyFile(), key);
      copy(second.certFile(), cert);
      awaitServed(second.cert().getSerialNumber());
      assertArrayEquals(bytes("after the reload"), Clients.echo(open, bytes("after the reload")));
      assertEquals(first.cert().getSerialNumber(),
          ((X509Certificate) open.getSession().getPeerCertificates()[0]).getSerialNumber());
    }
    assertTrue(reloads("success") >= 1);
    String certs = Scrape.get(proxy.adminPort(), "/certs", null).body();
    assertTrue(certs.contains(second.cert().getSerialNumber().toString(16)), certs);
    assertFalse(certs.contains(first.cert().getSerialNumber().toString(16)), certs);
    String metrics = Scrape.of(proxy.adminPort()).text();
    assertTrue(metrics.contains("serial=\"" + second.cert().getSerialNumber().toString(16) + "\""), metrics);
    assertFalse(metrics.contains("serial=\"" + first.cert().getSerialNumber().toString(16) + "\""),
        "the expiry gauge of the replaced certificate is gone");
  }

  @Test
  void kubernetesSecretSymlinkSwapIsNoticed() throws Exception {
    TestPki.Issued first = pki.server(ca, "web.test", "web.test");
    TestPki.Issued second = pki.server(ca, "web.test", "web.test");
    Path secret = Files.createDirectories(dir.resolve("secret"));
    publishSecret(secret, "..2026_11_26_1", first);
    Files.createSymbolicLink(secret.resolve("tls.crt"), Path.of("..data/tls.crt"));
    Files.createSymbolicLink(secret.resolve("tls.key"), Path.of("..data/tls.key"));
    startTerminating(secret.resolve("tls.crt"), secret.resolve("tls.key"), "");
    assertEquals(first.cert().getSerialNumber(), servedSerial());
    publishSecret(secret, "..2026_11_26_2", second);
    awaitServed(second.cert().getSerialNumber());
  }

  /** Writes a timestamped folder and swaps {@code ..data} to it in one rename, as the kubelet does. */
  private static void publishSecret(Path secret, String version, TestPki.Issued issued) throws Exception {
    Path v = Files.createDirectories(secret.resolve(version));
    copy(issued.certFile(), v.resolve("tls.crt"));
    copy(issued.keyFile(), v.resolve("tls.key"));
    Path tmp = secret.resolve("..data_tmp");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, Path.of(version));
    Files.move(tmp, secret.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void reloadToAKeyThatDoesNotMatchKeepsTheOldCertificateAndCountsAFailure() throws Exception {
    TestPki.Issued first = pki.server(ca, "web.test", "web.test");
    TestPki.Issued stranger = pki.server(ca, "web.test", "web.test");
    startTerminating(install(first.certFile(), cert), install(first.keyFile(), key), "");
    double failuresBefore = reloads("failure");
    copy(stranger.keyFile(), key);
    awaitFailedReloads(failuresBefore + 1);
    logs.await(l -> l.contains("listener web: reload failed") && l.contains(key.toString())
        && l.contains("does not match"), WAIT);
    assertEquals(first.cert().getSerialNumber(), servedSerial());
    assertEquals(1.0, reloads("failure") - failuresBefore, "one failure per change, not one per check");
    Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");
    awaitFailedReloads(failuresBefore + 2);
    assertEquals(first.cert().getSerialNumber(), servedSerial());
  }

  @Test
  void sighupReloadsEvenWithoutPeriodicChecks() throws Exception {
    TestPki.Issued first = pki.server(ca, "web.test", "web.test");
    TestPki.Issued second = pki.server(ca, "web.test", "web.test");
    copy(first.certFile(), cert);
    copy(first.keyFile(), key);
    proxy = fx.start("""
        reload: {checkInterval: 0}
        listeners:
          - {name: web, listen: 127.0.0.1:0, tls: {certificates: [{cert: %s, key: %s}]},
             upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(cert, key, echo.port()));
    copy(second.keyFile(), key);
    copy(second.certFile(), cert);
    assertEquals(first.cert().getSerialNumber(), servedSerial(), "no reload without a check");
    assertEquals(1, proxy.reloadCertificates());
    assertEquals(second.cert().getSerialNumber(), servedSerial());
  }

  @Test
  void rotatingFiveTimesUnderLoadFailsNoHandshakeAndDropsNoConnection() throws Exception {
    Path secret = Files.createDirectories(dir.resolve("secret"));
    publishSecret(secret, "..v0", pki.server(ca, "web.test", "web.test"));
    Files.createSymbolicLink(secret.resolve("tls.crt"), Path.of("..data/tls.crt"));
    Files.createSymbolicLink(secret.resolve("tls.key"), Path.of("..data/tls.key"));
    startTerminating(secret.resolve("tls.crt"), secret.resolve("tls.key"), "");
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Set<BigInteger> serials = ConcurrentHashMap.newKeySet();
    ExecutorService clients = Executors.newFixedThreadPool(2);
    try {
      Future<?>[] loops = new Future<?>[2];
      for (int i = 0; i < loops.length; i++) {
        loops[i] = clients.submit(() -> {
          int n = 0;
          while (System.nanoTime() < end && n++ < 20_000) {
            try (SSLSocket s = Clients.tls(client, proxy.port("web"), "web.test")) {
              serials.add(((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber());
              if (Clients.echo(s, bytes("x")).length == 1) {
                ok.incrementAndGet();
              } else {
                failed.incrementAndGet();
              }
            } catch (Exception e) {
              failed.incrementAndGet();
            }
          }
          return null;
        });
      }
      for (int r = 1; r <= 5; r++) {
        Thread.sleep(1500); // the load runs meanwhile; a rotation every 1.5 s within the 10 s window
        publishSecret(secret, "..v" + r, pki.server(ca, "web.test", "web.test"));
      }
      for (Future<?> f : loops) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdownNow();
    }
    assertEquals(0, failed.get(), "failed or dropped connections; " + ok.get() + " succeeded");
    assertTrue(ok.get() > 100, "load: " + ok.get());
    assertTrue(serials.size() >= 5, "rotations seen by clients: " + serials.size());
    assertEquals(0.0, reloads("failure"));
  }

  @Test
  void clientCaRotationAdmitsClientsOfTheNewCa() throws Exception {
    TestPki.Issued server = pki.server(ca, "web.test", "web.test");
    TestPki.Issued oldCa = pki.ca("old-client-ca");
    TestPki.Issued newCa = pki.ca("new-client-ca");
    Path clientCa = dir.resolve("client-ca.pem");
    copy(oldCa.certFile(), clientCa);
    proxy = fx.start("""
        reload: {checkInterval: 100ms}
        listeners:
          - {name: web, listen: 127.0.0.1:0, tls: {certificates: [{cert: %s, key: %s}], clientAuth: required,
             clientCa: %s}, upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(server.certFile(), server.keyFile(), clientCa, echo.port()));
    SSLContext oldClient = TestPki.clientContextPresentingAnyway(ca, pki.client(oldCa, "old"));
    SSLContext newClient = TestPki.clientContextPresentingAnyway(ca, pki.client(newCa, "new"));
    byte[] ping = bytes("ping");
    try (TlsAttempt a = TlsAttempt.echo(oldClient, proxy.port("web"), "web.test", ping)) {
      assertTrue(a.succeeded());
    }
    copy(newCa.certFile(), clientCa);
    Await.until("a client of the new CA to be admitted", WAIT, () -> {
      try (TlsAttempt a = TlsAttempt.echo(newClient, proxy.port("web"), "web.test", ping)) {
        return a.succeeded();
      } catch (Exception e) {
        return false;
      }
    });
    try (TlsAttempt a = TlsAttempt.echo(oldClient, proxy.port("web"), "web.test", ping)) {
      assertFalse(a.succeeded(), "a client of the old CA is refused after the rotation");
    }
  }

  @Test
  void upstreamTrustRotationReachesAnUpstreamOfTheNewCa() throws Exception {
    TestPki.Issued newCa = pki.ca("new-upstream-ca");
    TestServer backend = fx.tlsEchoBackend(pki.server(newCa, "backend.test", "backend.test"));
    Path upstreamCa = dir.resolve("upstream-ca.pem");
    copy(ca.certFile(), upstreamCa);
    proxy = fx.start("""
        reload: {checkInterval: 100ms}
        listeners:
          - {name: origin, listen: 127.0.0.1:0,
             upstream: {endpoints: [127.0.0.1:%d], tls: {serverName: backend.test, ca: %s}}}
        """.formatted(backend.port(), upstreamCa));
    try (Socket s = Clients.plain(proxy.port("origin"))) {
      s.getOutputStream().write(bytes("x"));
      assertEquals(-1, s.getInputStream().read(), "an upstream of an untrusted CA is refused");
    }
    copy(newCa.certFile(), upstreamCa);
    Await.until("the upstream of the new CA to be reached", WAIT, () -> {
      try (Socket s = Clients.plain(proxy.port("origin"))) {
        return Clients.echo(s, bytes("ping")).length == 4;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @Test
  void crlUpdateRefusesANewlyRevokedClientWithoutRestart() throws Exception {
    TestPki.Issued server = pki.server(ca, "web.test", "web.test");
    TestPki.Issued clientCa = pki.ca("crl-client-ca");
    TestPki.Issued alice = pki.client(clientCa, "alice");
    TestPki.Issued bob = pki.client(clientCa, "bob");
    Path crl = dir.resolve("client-ca.crl.pem");
    copy(pki.crl(clientCa, bob), crl);
    proxy = fx.start("""
        reload: {checkInterval: 100ms}
        listeners:
          - {name: web, listen: 127.0.0.1:0, tls: {certificates: [{cert: %s, key: %s}], clientAuth: required,
             clientCa: %s, crl: %s}, upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(server.certFile(), server.keyFile(), clientCa.certFile(), crl, echo.port()));
    SSLContext aliceCtx = TestPki.clientContextPresentingAnyway(ca, alice);
    byte[] ping = bytes("ping");
    try (TlsAttempt a = TlsAttempt.echo(aliceCtx, proxy.port("web"), "web.test", ping)) {
      assertTrue(a.succeeded(), "alice is not revoked yet");
    }
    copy(pki.crl(clientCa, bob, alice), crl);
    Await.until("alice to be refused once the new CRL is loaded", WAIT, () -> {
      try (TlsAttempt a = TlsAttempt.echo(aliceCtx, proxy.port("web"), "web.test", ping)) {
        return !a.succeeded();
      } catch (Exception e) {
        return false;
      }
    });
    logs.await(l -> l.contains("connection listener=web ") && l.contains("close=handshake_failed:certificate_revoked"),
        WAIT);
  }

  @Test
  void maxConnectionLifetimeEndsAnOldConnectionWhileANewOneIsServed() throws Exception {
    TestPki.Issued server = pki.server(ca, "web.test", "web.test");
    startTerminating(server.certFile(), server.keyFile(), "maxConnectionLifetime: 500ms,");
    try (SSLSocket old = Clients.tls(client, proxy.port("web"), "web.test")) {
      assertArrayEquals(bytes("hi"), Clients.echo(old, bytes("hi")));
      long start = System.nanoTime();
      assertEquals(-1, old.getInputStream().read(), "the proxy ends the old connection");
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertTrue(tookMs < 6_000, "ended after " + tookMs + " ms");
      try (SSLSocket fresh = Clients.tls(client, proxy.port("web"), "web.test")) {
        assertArrayEquals(bytes("new"), Clients.echo(fresh, bytes("new")));
      }
    }
    logs.await(l -> l.contains("connection listener=web ") && l.contains("close=max_connection_lifetime"), WAIT);
  }

  @Test
  void certificateCloseToExpiryIsWarnedAboutAtStart() throws Exception {
    TestPki.Issued soon = pki.serverValidFor(ca, Duration.ofDays(3), "web.test", "web.test");
    proxy = fx.start("""
        reload: {warnBefore: 14d}
        listeners:
          - {name: web, listen: 127.0.0.1:0, tls: {certificates: [{cert: %s, key: %s}]},
             upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(soon.certFile(), soon.keyFile(), echo.port()));
    logs.await(l -> l.startsWith("WARNING listener web: server certificate CN=web.test")
        && l.contains(soon.cert().getSerialNumber().toString(16)) && l.contains("renew it"), WAIT);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
