package io.tlsproxy.tls;

import static io.tlsproxy.tls.TlsFixture.pem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.tls.material.CertificateInUse;
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

  @TempDir
  static Path dir;
  static Vertx vertx;
  static TestPki pki;
  static TestPki.Issued ca;
  static TestPki.Issued upstreamCa;
  static TestPki.Issued web;
  static TestPki.Issued api;
  static TestPki.Issued client;

  @BeforeAll
  static void mint(Vertx v) {
    vertx = v;
    pki = new TestPki(dir);
    ca = pki.ca("lt-ca");
    upstreamCa = pki.ca("lt-upstream-ca");
    web = pki.server(ca, "www.test", "www.test");
    api = pki.server(ca, "api.test", "api.test");
    client = pki.client(upstreamCa, "proxy");
  }

  private static ListenerConfig listener(String yaml) {
    return TlsFixture.listener(vertx, dir, yaml);
  }

  /** A TLS listener with a client CA and CRL, a route with its own certificate and TLS upstream, and a plain one. */
  private static ListenerConfig routed(Path crl) {
    return listener("""
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
        """.formatted(pem(web), ca.certFile(), crl, pem(api), upstreamCa.certFile(), client.certFile(),
        client.keyFile(), ca.certFile()));
  }

  @Test
  void buildGivesTheServerSideAndOneClientSidePerUpstreamInRouteOrderDefaultLast() {
    ListenerTls tls = TlsFixture.build(routed(pki.crl(ca)));
    assertEquals("web", tls.listener());
    assertNotNull(tls.server());
    assertTrue(tls.usesTls());
    assertEquals(List.of("api", "db", "default"), tls.upstreams().stream().map(ListenerTls.Upstream::route).toList());
    ClientTls toApi = tls.upstreams().get(0).tls();
    assertEquals("api.internal", toApi.serverName());
    assertEquals(client.cert(), toApi.clientCertificate().leaf());
    assertNull(tls.upstreams().get(1).tls(), "db is dialled in plaintext");
    assertTrue(tls.upstreams().get(2).tls().verifiesPeer());
    assertEquals(List.of(), tls.warnings());
  }

  @Test
  void buildNamesEveryFileItReadForTheReloaderToWatch() {
    Path crl = pki.crl(ca);
    ListenerTls tls = TlsFixture.build(routed(crl));
    assertEquals(List.of(web.certFile(), web.keyFile(), ca.certFile(), crl, api.certFile(), api.keyFile(),
        upstreamCa.certFile(), client.certFile(), client.keyFile(), ca.certFile()), tls.files());
  }

  @Test
  void certificatesInUseAreServedPresentedAndTrustedWithTheirRoles() {
    ListenerTls tls = TlsFixture.build(routed(pki.crl(ca)));
    assertEquals(List.of("server " + api.cert().getSerialNumber(), "server " + web.cert().getSerialNumber(),
            "ca " + ca.cert().getSerialNumber(), "client " + client.cert().getSerialNumber(),
            "ca " + upstreamCa.cert().getSerialNumber(), "ca " + ca.cert().getSerialNumber()),
        tls.certificatesInUse().stream().map(ListenerTlsTest::roleAndSerial).toList());
  }

  private static String roleAndSerial(CertificateInUse c) {
    return c.role() + " " + c.certificate().getSerialNumber();
  }

  @Test
  void aPlaintextListenerWithAPlaintextUpstreamUsesNoTls() {
    ListenerTls tls = TlsFixture.build(TlsFixture.listener(vertx, dir, null, null));
    assertNull(tls.server());
    assertFalse(tls.usesTls());
    assertEquals(List.of(), tls.files());
    assertEquals(List.of(), tls.certificatesInUse());
  }

  @Test
  void weakerThanDefaultChoicesAndAStaleCrlAreWarnedAboutByKey() {
    Path stale = pki.crl(ca, Instant.now().minus(Duration.ofHours(2)), true);
    ListenerTls tls = TlsFixture.build(TlsFixture.listener(vertx, dir, "{certificates: [" + pem(web) + "], "
        + "engine: jdk, policy: legacy, clientAuth: required, clientCa: " + ca.certFile() + ", crl: " + stale + "}",
        "{insecureSkipVerify: true, engine: jdk}"));
    List<String> warnings = tls.warnings();
    assertEquals(3, warnings.size(), warnings.toString());
    assertTrue(warnings.get(0).startsWith("listeners[0].tls.crl: the CRL in " + stale + " from CN=lt-ca was due to "
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
    ListenerTls tls = TlsFixture.build(TlsFixture.listener(vertx, dir, null, "{ca: " + ca.certFile()
        + ", engine: jdk, protocols: [TLSv1.2], cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA]}"));
    assertEquals(List.of("listeners[0].upstream.tls: policy 'intermediate' allows protocols or suites weaker than "
        + "the intermediate profile: [TLSv1.2]"), tls.warnings());
  }

  static Stream<Arguments> unusableMaterial() {
    TestPki.Issued expired = pki.expiredServer(ca, "old.test", "old.test");
    Path nowhere = dir.resolve("missing.pem");
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
        Arguments.of("upstream client key of another certificate", null, "{ca: " + ca.certFile() + ", cert: "
            + client.certFile() + ", key: " + web.keyFile() + "}", "listeners[0].upstream.tls.key: private key "
            + web.keyFile() + " does not match the certificate in " + client.certFile()
            + "; use the key the certificate was issued for"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unusableMaterial")
  void unusableMaterialBuildsNothingAndNamesTheKey(String what, String tls, String upstreamTls, String problem) {
    ConfigProblems problems = new ConfigProblems();
    assertNull(TlsFixture.build(TlsFixture.listener(vertx, dir, tls, upstreamTls), Clock.systemUTC(), problems));
    assertEquals(List.of(problem), problems.list());
  }

  @Test
  void aCertificateIsJudgedExpiredByTheFactorysClock() {
    ListenerConfig l = TlsFixture.listener(vertx, dir, "{certificates: [" + pem(web) + "]}", null);
    Instant after = web.cert().getNotAfter().toInstant().plusSeconds(1);
    ConfigProblems problems = new ConfigProblems();
    assertNull(TlsFixture.build(l, Clock.fixed(after, java.time.ZoneOffset.UTC), problems));
    assertEquals(List.of("listeners[0].tls.certificates[0].cert: certificate in " + web.certFile() + " expired on "
        + web.cert().getNotAfter().toInstant() + " (CN=www.test); renew it"), problems.list());
  }
}
