package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.TlsAttempt;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TLS policies on a listener: which protocol versions and cipher suites are accepted, that the server's suite
 * order wins, and the reasons logged for a refusal. Every refusal is checked against a client that really
 * offered what is refused, so it is the proxy's policy that refuses and not the client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyIT {

  private static final List<String> TLS13_SUITES = List.of(
      "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
  /** The intermediate profile's TLS 1.2 suites: ECDHE with an AEAD cipher. */
  private static final List<String> TLS12_AEAD_SUITES = List.of(
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
  private static final String ECDSA_128 = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
  private static final String ECDSA_256 = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private SSLContext client;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("policy-ca");
    TestPki.Issued cert = pki.server(ca, "proxy.test", "proxy.test");
    client = TestPki.clientContext(ca, null);
    TestServer echo = fx.echoBackend();
    logs = fx.logs();
    proxy = fx.start("""
        listeners:
          - {name: intermediate, listen: 127.0.0.1:0, tls: {%1$s}, upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: modern, listen: 127.0.0.1:0, tls: {%1$s, policy: modern}, upstream: {endpoints: [127.0.0.1:%2$d]}}
          - name: custom
            listen: 127.0.0.1:0
            # engine: jdk, as only the JDK engine can restrict TLS 1.3 suites (checked on both engines in CI)
            tls: {%1$s, engine: jdk, cipherSuites: [%3$s, TLS_AES_256_GCM_SHA384]}
            upstream: {endpoints: [127.0.0.1:%2$d]}
          - name: order-256-first
            listen: 127.0.0.1:0
            tls: {%1$s, cipherSuites: [%3$s, %4$s]}
            upstream: {endpoints: [127.0.0.1:%2$d]}
          - name: order-128-first
            listen: 127.0.0.1:0
            tls: {%1$s, cipherSuites: [%4$s, %3$s]}
            upstream: {endpoints: [127.0.0.1:%2$d]}
        """.formatted(ProxyFixture.certificates(cert), echo.port(), ECDSA_256, ECDSA_128));
  }

  @Test
  void modernPolicyRefusesTls12WithProtocolVersion() throws Exception {
    assertRefused("modern", "handshake_failed:protocol_version", "TLSv1.2", ECDSA_128);
  }

  @Test
  void modernPolicyAcceptsTls13() throws Exception {
    try (TlsAttempt a = attempt("modern", "TLSv1.3")) {
      assertTrue(a.succeeded(), a::toString);
      assertEquals("TLSv1.3", a.session().getProtocol());
    }
  }

  @Test
  void intermediatePolicyRefusesCbcSuiteButAcceptsAeadOverTls12() throws Exception {
    assertRefused("intermediate", "handshake_failed:no_shared_cipher", "TLSv1.2",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256");
    try (TlsAttempt a = attempt("intermediate", "TLSv1.2", ECDSA_128)) {
      assertTrue(a.succeeded(), a::toString);
      assertEquals("TLSv1.2", a.session().getProtocol());
    }
  }

  /**
   * Every suite of the intermediate profile is offered alone. The listener's certificate is an EC one, so
   * ECDHE_RSA suites can never be chosen; everything else the listener allows must be accepted, and nothing more.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', value = {
      "intermediate; TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 "
          + "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 "
          + "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "custom; TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 TLS_AES_256_GCM_SHA384"})
  void acceptedSuitesAreExactlyTheAllowedOnes(String listener, String allowed) throws Exception {
    Set<String> accepted = new LinkedHashSet<>();
    List<String> offered = new ArrayList<>(TLS13_SUITES);
    offered.addAll(TLS12_AEAD_SUITES);
    for (String suite : offered) {
      String protocol = TLS13_SUITES.contains(suite) ? "TLSv1.3" : "TLSv1.2";
      try (TlsAttempt a = attempt(listener, protocol, suite)) {
        if (a.succeeded()) {
          assertEquals(suite, a.session().getCipherSuite());
          accepted.add(suite);
        } else {
          assertEquals("handshake_failed:no_shared_cipher", closeReason(listener, a), suite);
        }
      }
    }
    assertEquals(Set.of(allowed.split(" ")), accepted);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "order-256-first, " + ECDSA_128 + ", " + ECDSA_256 + ", " + ECDSA_256,
      "order-128-first, " + ECDSA_256 + ", " + ECDSA_128 + ", " + ECDSA_128})
  void serverSuiteOrderWinsOverClientOrder(String listener, String clientFirst, String clientSecond,
                                           String expected) throws Exception {
    try (TlsAttempt a = attempt(listener, "TLSv1.2", clientFirst, clientSecond)) {
      assertTrue(a.succeeded(), a::toString);
      assertEquals(expected, a.session().getCipherSuite());
    }
  }

  /**
   * The JDK disables TLS 1.0 and 1.1 in java.security and reads that setting once, at the first TLS use in the
   * JVM. Other test classes have used TLS in this JVM already, so the scenario runs in a JVM of its own that
   * re-enables TLS 1.1 before anything else: there only the listener's policy can refuse it. The legacy
   * listener, accepting the same client, shows that the client really offered TLS 1.1.
   */
  @Test
  void intermediatePolicyRefusesTls11ThatLegacyAccepts() throws Exception {
    List<String> results = runInFreshJvm(Tls11Scenario.class, fx.dir().resolve("tls11"));
    assertTrue(results.contains("legacy accepted TLSv1.1"), results::toString);
    assertTrue(results.stream().anyMatch(r -> r.startsWith("intermediate refused ")
        && r.endsWith(" close=handshake_failed:protocol_version")), results::toString);
  }

  /** The TLS 1.1 scenario; prints one result line per listener. */
  static final class Tls11Scenario {
    public static void main(String[] args) throws Exception {
      // Before any TLS use in this JVM, so that only the proxy's policy stands between the client and TLS 1.1.
      String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
      Security.setProperty("jdk.tls.disabledAlgorithms", Arrays.stream(disabled.split(","))
          .map(String::trim).filter(s -> !s.equals("TLSv1") && !s.equals("TLSv1.1"))
          .collect(Collectors.joining(", ")));
      Path dir = Files.createDirectories(Path.of(args[0]));
      TestPki pki = new TestPki(dir);
      TestPki.Issued ca = pki.ca("tls11-ca");
      TestPki.Issued cert = pki.server(ca, "proxy.test", "proxy.test");
      SSLContext client = TestPki.clientContext(ca, null);
      String certificates = ProxyFixture.certificates(cert);
      try (TestServer echo = TestServer.echo(); LogCapture logs = new LogCapture();
           ProxyHarness proxy = ProxyHarness.start(dir, """
               listeners:
                 - name: legacy
                   listen: 127.0.0.1:0
                   tls: {%1$s, policy: legacy}
                   upstream: {endpoints: [127.0.0.1:%2$d]}
                 - {name: intermediate, listen: 127.0.0.1:0, tls: {%1$s}, upstream: {endpoints: [127.0.0.1:%2$d]}}
               """.formatted(certificates, echo.port()))) {
        for (String listener : List.of("legacy", "intermediate")) {
          try (TlsAttempt a = TlsAttempt.handshake(client, proxy.port(listener), "proxy.test",
              new String[] {"TLSv1.1"}, null)) {
            System.out.println(a.succeeded() ? listener + " accepted " + a.session().getProtocol()
                : listener + " refused " + logs.connectionLineOf(listener, a.socket()));
          }
        }
      }
      System.exit(0);
    }
  }

  private static List<String> runInFreshJvm(Class<?> main, Path work) throws IOException, InterruptedException {
    Files.createDirectories(work);
    Path out = work.resolve("stdout.txt");
    Path err = work.resolve("stderr.txt");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), main.getName(), work.toString())
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(main.getSimpleName() + " did not finish within 60 s; stderr: " + Files.readString(err));
    }
    assertEquals(0, p.exitValue(), () -> main.getSimpleName() + " failed; stderr: " + read(err));
    return Files.readAllLines(out, StandardCharsets.UTF_8);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return e.toString();
    }
  }

  private TlsAttempt attempt(String listener, String protocol, String... suites) throws IOException {
    return TlsAttempt.handshake(client, proxy.port(listener), "proxy.test", new String[] {protocol},
        suites.length == 0 ? null : suites);
  }

  private void assertRefused(String listener, String reason, String protocol, String... suites) throws Exception {
    try (TlsAttempt a = attempt(listener, protocol, suites)) {
      assertFalse(a.succeeded(), a::toString);
      assertEquals(reason, closeReason(listener, a));
    }
  }

  private String closeReason(String listener, TlsAttempt a) {
    String line = logs.connectionLineOf(listener, a.socket());
    return line.substring(line.lastIndexOf(" close=") + " close=".length());
  }
}
