package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.ConfigException;
import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.LoopbackCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.tls.policy.PolicyResolver;
import io.tlsproxy.tls.policy.TlsPolicy;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code tls.keyLogFile}: tshark decrypts a loopback capture of a session through tlsproxy with the key log it
 * wrote, on the side it terminates and on the side it originates, and finds the request's random path; without
 * the key log it finds nothing. The file is private to its owner, each start warns (CheckCommandIT: and the
 * check), and the
 * JDK engine, which cannot hand out TLS 1.3 secrets, is refused naming the key and the fix: in the run with the
 * JDK engine as the default, every scenario expects that refusal instead.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyLogIT {

  /** One NSS key log line: a label, the client random (32 bytes), the secret. */
  private static final Pattern LINE = Pattern.compile("(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET"
      + "|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) "
      + "[0-9a-f]{64} [0-9a-f]{64,}");
  private static final String JDK_REFUSAL = ".keyLogFile: needs the openssl engine (the jdk engine does not expose "
      + "TLS secrets); set engine: openssl or remove keyLogFile";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private Path terminateKeys;
  private Path originateKeys;
  private String yaml;
  private ProxyHarness proxy;
  private ConfigException refused;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    ca = pki.ca("ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    TestPki.Issued backendCert = pki.server(ca, "backend.test", "backend.test");
    TestServer echo = fx.echoBackend();
    TestServer tlsEcho = fx.tlsEchoBackend(backendCert);
    terminateKeys = fx.dir().resolve("terminate.keys");
    originateKeys = fx.dir().resolve("originate.keys");
    logs = fx.logs();
    yaml = """
        listeners:
          - name: terminate
            listen: 127.0.0.1:0
            tls: {%1$s, keyLogFile: %2$s}
            upstream: {endpoints: [127.0.0.1:%3$d]}
          - name: originate
            listen: 127.0.0.1:0
            upstream:
              endpoints: [127.0.0.1:%4$d]
              tls: {serverName: backend.test, ca: %5$s, keyLogFile: %6$s}
        """.formatted(ProxyFixture.certificates(proxyCert), terminateKeys, echo.port(), tlsEcho.port(),
        ca.certFile(), originateKeys);
    if (opensslByDefault()) {
      proxy = fx.start(yaml);
    } else {
      refused = assertThrows(ConfigException.class, () -> fx.start(yaml));
    }
  }

  @Test
  void terminatedTls13SessionIsDecryptedWithTheKeyLogOnly() throws Exception {
    if (expectedJdkRefusal()) {
      return;
    }
    Assumptions.assumeTrue(LoopbackCapture.available(), "tcpdump and tshark are not installed");
    int port = proxy.port("terminate");
    String token = UUID.randomUUID().toString();
    long before = lines(terminateKeys);
    Path pcap;
    try (LoopbackCapture capture = LoopbackCapture.start(fx.dir(), port)) {
      try (SSLSocket s = Clients.tls(TestPki.clientContext(ca, null), port, "proxy.test",
          new String[] {"TLSv1.3"}, null)) {
        byte[] request = request(token);
        assertArrayEquals(request, Clients.echo(s, request));
      }
      awaitLines(terminateKeys, before + 4);
      pcap = capture.stop();
    }
    assertDecryptsOnlyWithKeyLog(pcap, port, terminateKeys, token);
  }

  @Test
  void terminatedTls12SessionIsDecryptedThroughItsClientRandomLine() throws Exception {
    if (expectedJdkRefusal()) {
      return;
    }
    Assumptions.assumeTrue(LoopbackCapture.available(), "tcpdump and tshark are not installed");
    int port = proxy.port("terminate");
    String token = UUID.randomUUID().toString();
    long before = lines(terminateKeys);
    Path pcap;
    try (LoopbackCapture capture = LoopbackCapture.start(fx.dir(), port)) {
      try (SSLSocket s = Clients.tls(TestPki.clientContext(ca, null), port, "proxy.test",
          new String[] {"TLSv1.2"}, null)) {
        byte[] request = request(token);
        assertArrayEquals(request, Clients.echo(s, request));
      }
      awaitLines(terminateKeys, before + 1);
      pcap = capture.stop();
    }
    assertTrue(Files.readString(terminateKeys).contains("CLIENT_RANDOM "), "a TLS 1.2 line");
    assertDecryptsOnlyWithKeyLog(pcap, port, terminateKeys, token);
  }

  @Test
  void originatedSessionToTheUpstreamIsDecryptedWithTheKeyLogOnly() throws Exception {
    if (expectedJdkRefusal()) {
      return;
    }
    Assumptions.assumeTrue(LoopbackCapture.available(), "tcpdump and tshark are not installed");
    int upstreamPort = Integer.parseInt(yaml.replaceAll("(?s).*endpoints: \\[127\\.0\\.0\\.1:(\\d+)]\\s+tls.*",
        "$1"));
    String token = UUID.randomUUID().toString();
    long before = lines(originateKeys);
    Path pcap;
    try (LoopbackCapture capture = LoopbackCapture.start(fx.dir(), upstreamPort)) {
      try (Socket s = Clients.plain(proxy.port("originate"))) {
        byte[] request = request(token);
        assertArrayEquals(request, Clients.echo(s, request));
      }
      awaitLines(originateKeys, before + 4);
      pcap = capture.stop();
    }
    assertDecryptsOnlyWithKeyLog(pcap, upstreamPort, originateKeys, token);
  }

  @Test
  void keyLogIsPrivateToItsOwnerAndHoldsOnlyNssLines() throws Exception {
    if (expectedJdkRefusal()) {
      return;
    }
    try (SSLSocket s = Clients.tls(TestPki.clientContext(ca, null), proxy.port("terminate"), "proxy.test")) {
      assertArrayEquals(request("x"), Clients.echo(s, request("x")));
    }
    awaitLines(terminateKeys, 4);
    assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(terminateKeys));
    for (String line : Files.readAllLines(terminateKeys)) {
      assertTrue(LINE.matcher(line).matches(), "not an NSS key log line: " + line);
    }
  }

  @Test
  void everyStartWarnsThatTheKeyLogIsInsecure() {
    if (expectedJdkRefusal()) {
      return;
    }
    logs.await(l -> l.contains("listeners[0].tls.keyLogFile: the secrets of every TLS session are written to "
        + terminateKeys + "; anyone who can read it can decrypt captured traffic: INSECURE, for debugging only"),
        Duration.ofSeconds(5));
    logs.await(l -> l.contains("listeners[1].upstream.tls.keyLogFile: the secrets of every TLS session are written "
        + "to " + originateKeys), Duration.ofSeconds(5));
  }

  @Test
  void jdkEngineIsRefusedNamingTheKeyAndTheFix() throws Exception {
    ConfigException e = assertThrows(ConfigException.class, () -> fx.start("""
        listeners:
          - name: jdk
            listen: 127.0.0.1:0
            tls: {%s, engine: jdk, keyLogFile: %s}
            upstream: {endpoints: [127.0.0.1:9], tls: {engine: jdk, keyLogFile: %s}}
        """.formatted(ProxyFixture.certificates(fx.pki().server(ca, "jdk.test", "jdk.test")),
        fx.dir().resolve("jdk.keys"), fx.dir().resolve("jdk-up.keys"))));
    assertEquals(Set.of("listeners[0].tls" + JDK_REFUSAL, "listeners[0].upstream.tls" + JDK_REFUSAL),
        Set.copyOf(e.problems()));
    assertFalse(Files.exists(fx.dir().resolve("jdk.keys")));
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  private static boolean opensslByDefault() {
    return TlsPolicy.OPENSSL.equals(PolicyResolver.defaultEngine());
  }

  /** In the run with the JDK engine as the default, the proxy must have been refused for both key logs. */
  private boolean expectedJdkRefusal() {
    if (opensslByDefault()) {
      return false;
    }
    assertEquals(Set.of("listeners[0].tls" + JDK_REFUSAL, "listeners[1].upstream.tls" + JDK_REFUSAL),
        Set.copyOf(refused.problems()));
    return true;
  }

  private static void assertDecryptsOnlyWithKeyLog(Path pcap, int port, Path keyLog, String token)
      throws Exception {
    String decrypted = LoopbackCapture.tlsPlaintext(pcap, port, keyLog);
    assertTrue(decrypted.contains("GET\t/" + token), "tshark with the key log: " + decrypted);
    String without = LoopbackCapture.tlsPlaintext(pcap, port, null);
    assertFalse(without.contains(token), "tshark without the key log: " + without);
    byte[] raw = Files.readAllBytes(pcap);
    assertFalse(new String(raw, StandardCharsets.ISO_8859_1).contains(token), "the capture itself is encrypted");
  }

  private static byte[] request(String token) {
    return ("GET /" + token + " HTTP/1.1\r\nHost: proxy.test\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private static long lines(Path file) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    try (var s = Files.lines(file)) {
      return s.count();
    }
  }

  /** The key log is written off the event loop: wait (bounded) until it holds {@code atLeast} lines. */
  private static void awaitLines(Path file, long atLeast) {
    Await.until(file + " holds " + atLeast + " lines", Duration.ofSeconds(10), () -> {
      try {
        return lines(file) >= atLeast;
      } catch (IOException e) {
        return false;
      }
    });
  }
}
