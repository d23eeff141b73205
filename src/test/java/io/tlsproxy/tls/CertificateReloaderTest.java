package io.tlsproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.tlsproxy.config.ReloadConfig;
import io.tlsproxy.metrics.MetricNames;
import io.tlsproxy.metrics.PrometheusMetrics;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.TestPki;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Certificate files change under a listener, and {@link CertificateReloader#check} is asked, as its timer and
 * SIGHUP do: good material is swapped in for new handshakes, broken material never replaces good material, and
 * what a reload finds is logged once and kept nowhere. Real files, a real Vert.x, real handshakes.
 */
@ExtendWith(VertxExtension.class)
class CertificateReloaderTest {

  @TempDir
  Path dir;
  private TlsFixture fixture;
  private TestPki.Issued first;
  private TestPki.Issued second;
  private Path cert;
  private Path key;
  private Vertx vertx;
  private PrometheusMetrics metrics;
  private LogCapture logs;

  @BeforeEach
  void setUp(Vertx vertx) throws IOException {
    this.vertx = vertx;
    fixture = new TlsFixture(vertx, dir);
    first = fixture.server();
    second = fixture.serverFor("a.test");
    cert = dir.resolve("server.pem");
    key = dir.resolve("server-key.pem");
    install(first);
    metrics = new PrometheusMetrics("test");
    logs = new LogCapture();
  }

  @AfterEach
  void tearDown() {
    logs.close();
    metrics.close();
  }

  /** Puts {@code issued}'s files where the listener reads its certificate. */
  private void install(TestPki.Issued issued) throws IOException {
    Files.copy(issued.certFile(), cert, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(issued.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
  }

  /** A listener serving the files at {@code cert} and {@code key}, with {@code more} keys and {@code upstreamTls}. */
  private ListenerTls listener(String more, String upstreamTls) {
    return TlsFixture.build(fixture.listener("{certificates: [{cert: " + cert + ", key: " + key + "}]" + more + "}",
        upstreamTls));
  }

  private ListenerTls listener() {
    return listener("", TlsFixture.verifying("jdk", fixture.ca(), "a.test", ""));
  }

  private CertificateReloader reloader(ListenerTls tls) {
    CertificateReloader r = new CertificateReloader(vertx, List.of(tls), TlsFixture.factory(Clock.systemUTC()),
        metrics, new ReloadConfig(Duration.ZERO, Duration.ofDays(1)), Clock.systemUTC());
    r.start();
    return r;
  }

  private static int await(Future<Integer> replaced) throws Exception {
    return replaced.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static BigInteger served(ListenerTls tls) {
    return TlsFixture.handshake(tls, "a.test").serverCertificate().getSerialNumber();
  }

  private double reloads(String result) {
    Counter c = metrics.registry().find(MetricNames.RELOADS)
        .tags(MetricNames.LISTENER, "web", MetricNames.RESULT, result).counter();
    return c == null ? 0 : c.count();
  }

  /** The serials whose expiry is published for the listener, from the metrics registry. */
  private List<String> publishedSerials() {
    return metrics.registry().find(MetricNames.CERTIFICATE_EXPIRY).tag(MetricNames.LISTENER, "web").gauges()
        .stream().map(g -> g.getId().getTag(MetricNames.SERIAL)).sorted().toList();
  }

  private long logged(String part) {
    return logs.lines().stream().filter(l -> l.contains(part)).count();
  }

  @Test
  void reloadToGoodMaterialServesItToNewHandshakes() throws Exception {
    ListenerTls tls = listener();
    CertificateReloader reloader = reloader(tls);
    assertEquals(first.cert().getSerialNumber(), served(tls));

    install(second);
    assertEquals(1, await(reloader.check(false)));
    assertEquals(second.cert().getSerialNumber(), served(tls));
    assertEquals(second.cert(), tls.server().certificates().get(0).leaf());
    assertEquals(1, reloads("success"));
    assertEquals(0, reloads("failure"));
    assertTrue(publishedSerials().contains(second.cert().getSerialNumber().toString(16)), "new expiry published");
    assertFalse(publishedSerials().contains(first.cert().getSerialNumber().toString(16)), "old expiry gone");
    assertEquals(1, logged("INFO listener web: certificates reloaded, serials server=["
        + first.cert().getSerialNumber().toString(16) + "]"), logs.lines().toString());
  }

  @Test
  void withoutAChangeOnlyAForcedCheckReloads() throws Exception {
    ListenerTls tls = listener();
    CertificateReloader reloader = reloader(tls);
    assertEquals(0, await(reloader.check(false)));
    assertEquals(0, reloads("success"));
    assertEquals(1, await(reloader.check(true)), "SIGHUP reloads the same content");
    assertEquals(1, reloads("success"));
    assertEquals(first.cert().getSerialNumber(), served(tls));
  }

  static Stream<Arguments> brokenMaterial() {
    return Stream.of(
        Arguments.of("a certificate without its key", (Breakage) t -> Files.copy(t.second.certFile(), t.cert,
            StandardCopyOption.REPLACE_EXISTING), ".key: private key "),
        Arguments.of("an expired certificate", (Breakage) t -> t.install(
            t.fixture.pki().expiredServer(t.fixture.ca(), "a.test", "a.test")), ".cert: certificate in "),
        Arguments.of("a deleted key", (Breakage) t -> Files.delete(t.key), ".key: file not found: "),
        Arguments.of("a certificate file of garbage", (Breakage) t -> Files.writeString(t.cert, "not a PEM file"),
            ".cert: "));
  }

  /** Something done to the files a listener of {@code test} reads. */
  interface Breakage {
    void apply(CertificateReloaderTest test) throws IOException;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenMaterial")
  void reloadToBrokenMaterialKeepsTheOldAndCountsAFailure(String what, Breakage breakage, String problem)
      throws Exception {
    ListenerTls tls = listener();
    CertificateReloader reloader = reloader(tls);
    breakage.apply(this);
    assertEquals(0, await(reloader.check(false)));
    assertEquals(first.cert().getSerialNumber(), served(tls), "the old certificate still serves");
    assertEquals(first.cert(), tls.server().certificates().get(0).leaf());
    assertEquals(1, reloads("failure"));
    assertEquals(0, reloads("success"));
    String failed = "WARNING listener web: reload failed, the certificates in use stay: "
        + "listeners[0].tls.certificates[0]" + problem;
    assertEquals(1, logged(failed), logs.lines().toString());

    assertEquals(0, await(reloader.check(false)));
    assertEquals(1, reloads("failure"), "the same broken content is tried once, not at every check");
    assertEquals(1, logged(failed));

    install(second);
    assertEquals(1, await(reloader.check(false)), "fixed material is taken up at the next check");
    assertEquals(second.cert().getSerialNumber(), served(tls));
  }

  @Test
  void warningsFoundAtAReloadAreLoggedOnceAndNotKept() throws Exception {
    Path crl = dir.resolve("clients.crl");
    Files.copy(fixture.pki().crl(fixture.ca()), crl);
    ListenerTls tls = listener(", clientAuth: optional, clientCa: " + fixture.ca().certFile() + ", crl: " + crl,
        "{insecureSkipVerify: true}");
    List<String> atStart = tls.warnings();
    assertEquals(1, atStart.size(), atStart.toString());
    int certificates = tls.certificatesInUse().size();
    CertificateReloader reloader = reloader(tls);
    List<String> published = publishedSerials();

    Files.copy(fixture.pki().crl(fixture.ca(), Instant.now().minus(Duration.ofMinutes(1)), true), crl,
        StandardCopyOption.REPLACE_EXISTING);
    assertEquals(1, await(reloader.check(false)));
    String stale = "WARNING listener web: listeners[0].tls.crl: the CRL in " + crl;
    String insecure = "WARNING listener web: listeners[0].upstream.tls: insecureSkipVerify is true";
    assertEquals(1, logged(stale), logs.lines().toString());
    assertEquals(1, logged(insecure));
    assertEquals(0, await(reloader.check(false)));
    assertEquals(1, logged(stale), "nothing changed, nothing logged again");

    for (int i = 1; i <= 3; i++) {
      assertEquals(1, await(reloader.check(true)));
      assertEquals(1 + i, logged(stale), "once per reload");
      assertEquals(1 + i, logged(insecure));
      assertEquals(atStart, tls.warnings(), "a reload's warnings are not kept");
      assertEquals(certificates, tls.certificatesInUse().size());
      assertEquals(published, publishedSerials());
    }
  }

  /**
   * A Kubernetes Secret volume changes by pointing its {@code ..data} link at a new folder; the files the listener
   * names are links through it and keep their paths.
   */
  @Test
  void aSecretVolumeSwappingItsDataLinkIsReloaded() throws Exception {
    Path secret = fixture.pki().secretDir("secret", first, null);
    ListenerTls tls = TlsFixture.build(fixture.listener("{certificates: [{secretDir: " + secret + "}]}",
        TlsFixture.verifying("jdk", fixture.ca(), "a.test", "")));
    CertificateReloader reloader = reloader(tls);

    Path data = Files.createDirectory(secret.resolve("..2024_01_02_00_00_00.1"));
    Files.copy(second.certFile(), data.resolve("tls.crt"));
    Files.copy(second.keyFile(), data.resolve("tls.key"));
    Path link = Files.createSymbolicLink(secret.resolve("..data_tmp"), data.getFileName());
    Files.move(link, secret.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);

    assertEquals(1, await(reloader.check(false)));
    assertEquals(second.cert().getSerialNumber(), served(tls));
    assertEquals(List.of(), logs.lines().stream().filter(l -> l.startsWith("WARNING")).toList());
  }
}
