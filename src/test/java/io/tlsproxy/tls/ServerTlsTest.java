package io.tlsproxy.tls;

import static io.tlsproxy.tls.TlsFixture.pem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tlsproxy.testkit.TestPki;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which certificate a listener serves for the server name a client sends, through a real handshake: routes'
 * certificates answer their names ahead of the listener's, and the listener's first certificate answers the rest.
 */
@ExtendWith(VertxExtension.class)
class ServerTlsTest {

  static TlsFixture fixture;

  @BeforeAll
  static void mint(Vertx vertx, @TempDir Path dir) {
    fixture = new TlsFixture(vertx, dir);
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void theServedCertificateFollowsTheServerNameRoutesFirst(String engine) {
    TestPki.Issued first = fixture.serverFor("www.test");
    TestPki.Issued second = fixture.serverFor("api.test", "*.wild.test");
    TestPki.Issued route = fixture.serverFor("api.test");
    ListenerTls tls = TlsFixture.build(fixture.listener("""
        listeners:
          - name: web
            listen: 127.0.0.1:0
            tls: {certificates: [%s, %s], engine: %s}
            routes: [{name: api, serverNames: [api.test], certificates: [%s], upstream: {endpoints: [127.0.0.1:9]}}]
            upstream: {endpoints: [127.0.0.1:9], tls: {insecureSkipVerify: true, engine: %s}}
        """.formatted(pem(first), pem(second), engine, pem(route), engine)));
    ClientTls anyCertificate = TlsFixture.clientSide(tls);
    Map<String, TestPki.Issued> expected = Map.of(
        "api.test", route,
        "x.wild.test", second,
        "www.test", first,
        "WWW.Test", first,
        "unknown.test", first,
        "y.x.wild.test", first,
        "127.0.0.1", first);
    expected.forEach((host, served) -> assertEquals(served.cert(),
        TlsFixture.handshake(tls.server(), anyCertificate, host).serverCertificate(), host));
  }

  @Test
  void serverNamesMatchExactlyThenByOneLabelWildcardElseTheDefault() {
    ServerNameMatcher<String> m = ServerNameMatcher.of(List.of(
        Map.entry(List.of("API.example.com."), "exact"),
        Map.entry(List.of("*.example.com", "api.example.com"), "wildcard"),
        Map.entry(List.of("*.example.com"), "later wildcard")), "default");
    assertEquals("exact", m.match("api.example.com"), "the first entry to claim a name keeps it");
    assertEquals("exact", m.match("Api.Example.COM."), "case and a trailing dot do not matter");
    assertEquals("wildcard", m.match("www.example.com"));
    assertEquals("default", m.match("a.www.example.com"), "a wildcard stands for exactly one label");
    assertEquals("default", m.match("example.com"));
    assertEquals("default", m.match(null));
    assertEquals("default", m.match(""));
    assertNull(m.find("other.test"));
  }
}
