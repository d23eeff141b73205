package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.ConfigException;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.TlsAttempt;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The certificate a listener presents is chosen by the name the client sends: an exact name first, then a
 * wildcard for one label, else the first certificate. Each case is checked on the certificate the client sees.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SniIT {

  private static final String KEYSTORE_PASSWORD = "keystore-secret";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki pki;
  private TestPki.Issued ca;
  private TestServer echo;
  private ProxyHarness proxy;
  private LogCapture logs;
  private Path keystore;

  @BeforeAll
  void start() throws Exception {
    pki = fx.pki();
    ca = pki.ca("sni-ca");
    TestPki.Issued fallback = pki.server(ca, "default", "default.test");
    TestPki.Issued wildcard = pki.server(ca, "wildcard", "*.example.test");
    TestPki.Issued exact = pki.server(ca, "exact", "exact.example.test");
    TestPki.Issued renamed = pki.server(ca, "renamed", "own-name.test");
    keystore = pki.pkcs12(pki.server(ca, "from-keystore", "keystore.test"), KEYSTORE_PASSWORD);
    echo = fx.echoBackend();
    logs = fx.logs();
    String first = "{cert: %s, key: %s}".formatted(fallback.certFile(), fallback.keyFile());
    proxy = fx.start("""
        listeners:
          - name: by-name
            listen: 127.0.0.1:0
            tls: {certificates: [%1$s, {cert: %3$s, key: %4$s}, {cert: %5$s, key: %6$s}]}
            upstream: {endpoints: [127.0.0.1:%2$d]}
          - name: server-names
            listen: 127.0.0.1:0
            tls: {certificates: [%1$s, {cert: %7$s, key: %8$s, serverNames: [alias.test]}]}
            upstream: {endpoints: [127.0.0.1:%2$d]}
          - name: keystore
            listen: 127.0.0.1:0
            tls: {certificates: [%1$s, {keystore: %9$s, password: %10$s}]}
            upstream: {endpoints: [127.0.0.1:%2$d]}
        """.formatted(first, echo.port(), wildcard.certFile(), wildcard.keyFile(), exact.certFile(),
        exact.keyFile(), renamed.certFile(), renamed.keyFile(), keystore, KEYSTORE_PASSWORD));
  }

  /** An empty server name means the client sends no SNI. */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "a.example.test,     wildcard",
      "A.Example.TEST,     wildcard",
      "exact.example.test, exact",
      "default.test,       default",
      ",                   default",
      "unknown.test,       default",
      "a.b.example.test,   default",
      "example.test,       default"})
  void certificateIsChosenByServerName(String sni, String expectedCn) throws Exception {
    assertEquals("CN=" + expectedCn, presentedSubject("by-name", sni));
  }

  @Test
  void serverNameIsLogged() throws Exception {
    try (TlsAttempt a = TlsAttempt.handshake(freshClient(), proxy.port("by-name"), "logged.example.test")) {
      assertTrue(a.succeeded(), a::toString);
      a.close();
      String line = logs.connectionLineOf("by-name", a.socket());
      assertTrue(line.contains(" sni=logged.example.test "), line);
    }
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "alias.test,    renamed",
      "own-name.test, default"})
  void serverNamesReplaceTheCertificatesOwnNames(String sni, String expectedCn) throws Exception {
    assertEquals("CN=" + expectedCn, presentedSubject("server-names", sni));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "keystore.test, from-keystore",
      "other.test,    default"})
  void pkcs12KeystoreWithPasswordServesItsNames(String sni, String expectedCn) throws Exception {
    assertEquals("CN=" + expectedCn, presentedSubject("keystore", sni));
  }

  @Test
  void keystoreWithWrongPasswordIsRefusedAtStartNamingTheKey() {
    ConfigException e = assertThrows(ConfigException.class, () -> fx.start("""
        listeners:
          - name: wrong-password
            listen: 127.0.0.1:0
            tls: {certificates: [{keystore: %s, password: not-the-password}]}
            upstream: {endpoints: [127.0.0.1:%d]}
        """.formatted(keystore, echo.port())));
    assertEquals(1, e.problems().size(), e.problems()::toString);
    String problem = e.problems().get(0);
    assertTrue(problem.startsWith("listeners[0].tls.certificates[0].keystore: "), problem);
    assertTrue(problem.contains("wrong password"), problem);
    assertFalse(problem.contains("not-the-password"), problem);
  }

  private String presentedSubject(String listener, String sni) throws Exception {
    try (TlsAttempt a = TlsAttempt.handshake(freshClient(), proxy.port(listener), sni)) {
      assertTrue(a.succeeded(), a::toString);
      return a.serverCertificate().getSubjectX500Principal().getName();
    }
  }

  /**
   * A client without earlier sessions. The JDK client caches sessions by host and port only, and resumes one
   * even when it now asks for another name; it would then see the certificate of the earlier name.
   */
  private SSLContext freshClient() {
    return TestPki.clientContext(ca, null);
  }
}
