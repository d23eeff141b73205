package io.tlsproxy.tls;

import static io.tlsproxy.tls.TlsFixture.pem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.material.CertificateInUse;
import io.tlsproxy.testkit.TestPki;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What {@link ListenerTls#build} makes of a listener's configuration: its parts in route order, the files it read,
 * the certificates in use, the warnings and, for material that cannot serve, nothing but problems naming the key.
 */
@ExtendWith(VertxExtension.class)
class ListenerTlsTest {

  static TlsFixture fixture;
  static TestPki.Issued web;
  static TestPki.Issued api;

  @BeforeAll
  static void mint(Vertx vertx, @TempDir Path dir) {
    fixture = new TlsFixture(vertx, dir);
    web = fixture.serverFor("www.test");
    api = fixture.serverFor("api.test");
  }

  /** A TLS listener with a client CA and CRL, a route with its own certificate and TLS upstream, and a plain one. */
  private static ListenerConfig routed(Path crl) {
    return fixture.listener("""
        listeners:
          - name: web
            listen: 127.0.0.1:0
            tls: {certificates: [%s], clientAuth: optional, clientCa: %s, crl: %s}
            routes:
              - name: api
                serverNames: [api.test]
                certificates: [%s]
                upstream: {endpoints: [127.0.0.1:9], tls: {ca: %s, cert: %s, key: %s, serverName: api.internal}}
              - {name: db, serverNames: [db.test], upstream: {endpoints: [127.0.0.1:9]}}
            upstream: {endpoints: [127.0.0.1:9], tls: {ca: %s}}
        """.formatted(pem(web), fixture.ca().certFile(), crl, pem(api), fixture.otherCa().certFile(),
        fixture.client().certFile(), fixture.client().keyFile(), fixture.ca().certFile()));
  }

  @Test
  void buildGivesTheServerSideAndOneClientSidePerUpstreamInRouteOrderDefaultLast() {
    ListenerTls tls = TlsFixture.build(routed(fixture.pki().crl(fixture.ca())));
    assertEquals("web", tls.listener());
    assertNotNull(tls.server());
    assertTrue(tls.usesTls());
    assertEquals(List.of("api", "db", "default"), tls.upstreams().stream().map(ListenerTls.Upstream::route).toList());
    ClientTls toApi = tls.upstreams().get(0).tls();
    assertEquals("api.internal", toApi.serverName());
    assertEquals(fixture.client().cert(), toApi.clientCertificate().leaf());
    assertNull(tls.upstreams().get(1).tls(), "db is dialled in plaintext");
    assertTrue(tls.upstreams().get(2).tls().verifiesPeer());
    assertEquals(List.of(), tls.warnings());
  }

  @Test
  void buildNamesEveryFileItReadForTheReloaderToWatch() {
    Path crl = fixture.pki().crl(fixture.ca());
    ListenerTls tls = TlsFixture.build(routed(crl));
    assertEquals(List.of(web.certFile(), web.keyFile(), fixture.ca().certFile(), crl, api.certFile(), api.keyFile(),
        fixture.otherCa().certFile(), fixture.client().certFile(), fixture.client().keyFile(),
        fixture.ca().certFile()), tls.files());
  }

  @Test
  void certificatesInUseAreServedPresentedAndTrustedWithTheirRoles() {
    ListenerTls tls = TlsFixture.build(routed(fixture.pki().crl(fixture.ca())));
    assertEquals(List.of("server " + api.cert().getSerialNumber(), "server " + web.cert().getSerialNumber(),
            "ca " + fixture.ca().cert().getSerialNumber(), "client " + fixture.client().cert().getSerialNumber(),
            "ca " + fixture.otherCa().cert().getSerialNumber(), "ca " + fixture.ca().cert().getSerialNumber()),
        tls.certificatesInUse().stream().map(ListenerTlsTest::roleAndSerial).toList());
  }

  private static String roleAndSerial(CertificateInUse c) {
    return c.role() + " " + c.certificate().getSerialNumber();
  }

  @Test
  void aPlaintextListenerWithAPlaintextUpstreamUsesNoTls() {
    ListenerTls tls = TlsFixture.build(fixture.listener(null, null));
    assertNull(tls.server());
    assertFalse(tls.usesTls());
    assertEquals(List.of(), tls.files());
    assertEquals(List.of(), tls.certificatesInUse());
  }

  @Test
  void weakerThanDefaultChoicesAndAStaleCrlAreWarnedAboutByKey() {
    Path stale = fixture.pki().crl(fixture.ca(), Instant.now().minus(Duration.ofHours(2)), true);
    ListenerTls tls = TlsFixture.build(fixture.listener("{certificates: [" + pem(web) + "], "
        + "engine: jdk, policy: legacy, clientAuth: required, clientCa: " + fixture.ca().certFile() + ", crl: "
        + stale + "}", "{insecureSkipVerify: true, engine: jdk}"));
    List<String> warnings = tls.warnings();
    assertEquals(3, warnings.size(), warnings.toString());
    assertTrue(warnings.get(0).startsWith("listeners[0].tls.crl: the CRL in " + stale + " from CN=ca was due to "
        + "be replaced at "), warnings.get(0));
    assertTrue(warnings.get(0).endsWith("(nextUpdate); its revocations still apply, but newer ones are unknown: "
        + "fetch a fresh CRL"), warnings.get(0));
    assertEquals("listeners[0].tls: policy 'legacy' allows protocols or suites weaker than the intermediate "
        + "profile: [TLSv1.3, TLSv1.2, TLSv1.1, TLSv1]", warnings.get(1));
    assertEquals("listeners[0].upstream.tls: insecureSkipVerify is true: upstream certificates are NOT verified",
        warnings.get(2));
  }

  @Test
  void anExplicitWeakerSuiteIsWarnedAboutOnTheUpstreamsKey() {
    ListenerTls tls = TlsFixture.build(fixture.listener(null, "{ca: " + fixture.ca().certFile()
        + ", engine: jdk, protocols: [TLSv1.2], cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA]}"));
    assertEquals(List.of("listeners[0].upstream.tls: policy 'intermediate' allows protocols or suites weaker than "
        + "the intermediate profile: [TLSv1.2]"), tls.warnings());
  }

  static Stream<Arguments> unusableMaterial() {
    TestPki.Issued expired = fixture.pki().expiredServer(fixture.ca(), "old.test", "old.test");
    Path nowhere = fixture.pki().dir().resolve("missing.pem");
    String listener = "listeners[0].tls.certificates[0]";
    return Stream.of(
        Arguments.of("missing certificate file", "{certificates: [{cert: " + nowhere + ", key: " + web.keyFile()
            + "}]}", null, listener + ".cert: file not found: " + nowhere),
        Arguments.of("key of another certificate", "{certificates: [{cert: " + web.certFile() + ", key: "
            + api.keyFile() + "}]}", null, listener + ".key: private key " + api.keyFile() + " does not match the "
            + "certificate in " + web.certFile() + "; use the key the certificate was issued for"),
        Arguments.of("expired certificate", "{certificates: [" + pem(expired) + "]}", null,
            listener + ".cert: certificate in " + expired.certFile() + " expired on "
                + expired.cert().getNotAfter().toInstant() + " (CN=old.test); renew it"),
        Arguments.of("missing client CA", "{certificates: [" + pem(web) + "], clientAuth: required, clientCa: "
            + nowhere + "}", null, "listeners[0].tls.clientCa: file not found: " + nowhere),
        Arguments.of("missing upstream CA", null, "{ca: " + nowhere + "}",
            "listeners[0].upstream.tls.ca: file not found: " + nowhere),
        Arguments.of("upstream client key of another certificate", null, "{ca: " + fixture.ca().certFile()
            + ", cert: " + fixture.client().certFile() + ", key: " + web.keyFile() + "}",
            "listeners[0].upstream.tls.key: private key " + web.keyFile() + " does not match the certificate in "
            + fixture.client().certFile() + "; use the key the certificate was issued for"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unusableMaterial")
  void unusableMaterialBuildsNothingAndNamesTheKey(String what, String tls, String upstreamTls, String problem) {
    ConfigProblems problems = new ConfigProblems();
    assertNull(TlsFixture.build(fixture.listener(tls, upstreamTls), Clock.systemUTC(), problems));
    assertEquals(List.of(problem), problems.list());
  }

  @Test
  void aCertificateIsJudgedExpiredByTheFactorysClock() {
    ListenerConfig l = fixture.listener("{certificates: [" + pem(web) + "]}", null);
    Instant after = web.cert().getNotAfter().toInstant().plusSeconds(1);
    ConfigProblems problems = new ConfigProblems();
    assertNull(TlsFixture.build(l, Clock.fixed(after, java.time.ZoneOffset.UTC), problems));
    assertEquals(List.of("listeners[0].tls.certificates[0].cert: certificate in " + web.certFile() + " expired on "
        + web.cert().getNotAfter().toInstant() + " (CN=www.test); renew it"), problems.list());
  }
}
