package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Upstream certificates are verified by default: an upstream whose certificate comes from an unknown CA, has
 * expired or names another host gets no byte, and the client's connection is closed. With insecureSkipVerify
 * the same upstreams are used, and the start-up says so.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpstreamVerificationIT {

  private static final byte[] HELLO = "hello upstream".getBytes(StandardCharsets.UTF_8);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  /** Two backends per bad certificate, one behind a verifying listener and one behind an insecure one. */
  private final Map<String, TestServer> backends = new LinkedHashMap<>();
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued trusted = pki.ca("upstream-ca");
    TestPki.Issued rogue = pki.ca("rogue-ca");
    Map<String, TestPki.Issued> certs = Map.of(
        "unknown-ca", pki.server(rogue, "backend.test", "backend.test"),
        "expired", pki.expiredServer(trusted, "backend.test", "backend.test"),
        "wrong-name", pki.server(trusted, "other.test", "other.test"));
    StringBuilder listeners = new StringBuilder("listeners:\n");
    for (String name : new String[] {"unknown-ca", "expired", "wrong-name"}) {
      for (boolean insecure : new boolean[] {false, true}) {
        String listener = insecure ? "insecure-" + name : name;
        TestServer backend = fx.tlsEchoBackend(certs.get(name));
        backends.put(listener, backend);
        listeners.append("""
              - name: %s
                listen: 127.0.0.1:0
                upstream: {endpoints: [127.0.0.1:%d], tls: {serverName: backend.test, ca: %s%s}}
            """.formatted(listener, backend.port(), trusted.certFile(),
            insecure ? ", insecureSkipVerify: true" : ""));
      }
    }
    logs = fx.logs();
    proxy = fx.start(listeners.toString());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "unknown-ca, unknown_ca",
      "expired,    certificate_expired",
      "wrong-name, hostname_mismatch"})
  void badUpstreamCertificateClosesClientAndForwardsNothing(String listener, String reason) throws Exception {
    TestServer backend = backends.get(listener);
    try (Socket s = Clients.plain(proxy.port(listener))) {
      s.getOutputStream().write(HELLO);
      s.getOutputStream().flush();
      Clients.assertClosedWithoutReply(s);
      String line = logs.connectionLineOf(listener, s);
      assertTrue(line.endsWith(" close=upstream_unavailable:tls:" + reason), line);
    }
    assertEquals(0, backend.served(), "handshakes the backend completed");
    assertEquals(0, backend.bytesReceived(), "application bytes the backend received");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"unknown-ca", "expired", "wrong-name"})
  void insecureSkipVerifyConnectsToTheSameBadUpstream(String name) throws Exception {
    String listener = "insecure-" + name;
    try (Socket s = Clients.plain(proxy.port(listener))) {
      assertArrayEquals(HELLO, Clients.echo(s, HELLO));
    }
    assertEquals(HELLO.length, backends.get(listener).bytesReceived());
    assertTrue(logs.connectionLine(listener, "close=").contains(" upstream_tls=TLSv1.3/"));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"unknown-ca", "expired", "wrong-name"})
  void insecureSkipVerifyIsWarnedAboutAtStart(String name) {
    int index = List.copyOf(backends.keySet()).indexOf("insecure-" + name);
    String warning = "WARNING listeners[" + index + "].upstream.tls: insecureSkipVerify is true";
    assertTrue(logs.lines().stream().anyMatch(l -> l.startsWith(warning)), () -> warning + " in " + logs.lines());
  }
}
