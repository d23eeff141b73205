package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Session resumption on the OpenSSL engine: a returning client resumes (TLS 1.3 ticket) and the proxy resumes its
 * own session towards the upstream; a ticket issued before a key rotation still resumes after one rotation, and
 * no longer after two, because only the previous key is kept.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionResumptionIT {

  private static final String HANDSHAKES = "tlsproxy_tls_handshakes_total";
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String ROTATED = "listener rotating: session ticket key rotated";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    ca = pki.ca("resumption-ca");
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    TestServer echo = fx.echoBackend();
    TestServer tlsEcho = fx.tlsEchoBackend(pki.server(ca, "backend.test", "backend.test"));
    logs = fx.logs();
    String certs = ProxyFixture.certificates(proxyCert) + ", engine: openssl";
    proxy = fx.start("""
        listeners:
          - {name: edge, listen: 127.0.0.1:0, tls: {%1$s}, upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: rotating, listen: 127.0.0.1:0, tls: {%1$s, sessionTicketKeyRotation: 3s},
             upstream: {endpoints: [127.0.0.1:%2$d]}}
          - {name: origin, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%3$d],
             tls: {serverName: backend.test, ca: %4$s, engine: openssl}}}
        """.formatted(certs, echo.port(), tlsEcho.port(), ca.certFile()));
  }

  private double handshakes(String listener, String side, String resumed) throws Exception {
    return Scrape.of(proxy.adminPort()).sum(HANDSHAKES, "listener", listener, "side", side, "resumed", resumed);
  }

  /** One connection through {@code listener} with {@code client} (null: plaintext), checked end to end. */
  private void exchange(String listener, SSLContext client) throws Exception {
    int port = proxy.port(listener);
    try (Socket s = client == null ? Clients.plain(port) : Clients.tls(client, port, "proxy.test")) {
      byte[] ping = "ping".getBytes(StandardCharsets.US_ASCII);
      assertArrayEquals(ping, Clients.echo(s, ping));
    }
  }

  /** Runs {@code action} and waits for the handshake counter of {@code listener}/{@code side} to move by one. */
  private void expectHandshake(String listener, String side, String resumed, Action action) throws Exception {
    double before = handshakes(listener, side, resumed);
    double beforeAll = handshakes(listener, side, "true") + handshakes(listener, side, "false");
    action.run();
    Await.until(listener + " " + side + " handshake", WAIT, () -> {
      try {
        return handshakes(listener, side, "true") + handshakes(listener, side, "false") > beforeAll;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertEquals(1.0, handshakes(listener, side, resumed) - before, listener + " " + side + " resumed=" + resumed);
  }

  interface Action {
    void run() throws Exception;
  }

  private long rotations() {
    return logs.lines().stream().filter(l -> l.contains(ROTATED)).count();
  }

  private void awaitRotations(long atLeast) {
    Await.until("ticket key rotation " + atLeast, WAIT, () -> rotations() >= atLeast);
  }

  @Test
  void returningClientResumesItsSession() throws Exception {
    SSLContext client = TestPki.clientContext(ca, null);
    expectHandshake("edge", "downstream", "false", () -> exchange("edge", client));
    expectHandshake("edge", "downstream", "true", () -> exchange("edge", client));
  }

  @Test
  void proxyResumesItsSessionTowardsTheUpstream() throws Exception {
    // The first connection may or may not find a session from another test; the second one always does.
    exchange("origin", null);
    expectHandshake("origin", "upstream", "true", () -> exchange("origin", null));
  }

  @Test
  void ticketFromBeforeOneRotationStillResumes() throws Exception {
    SSLContext client = TestPki.clientContext(ca, null);
    expectHandshake("rotating", "downstream", "false", () -> exchange("rotating", client));
    // The ticket's key is now the current one; after the next rotation it is the previous one, still accepted.
    awaitRotations(rotations() + 1);
    expectHandshake("rotating", "downstream", "true", () -> exchange("rotating", client));
  }

  @Test
  void ticketFromBeforeTwoRotationsIsRefusedAndAFullHandshakeFollows() throws Exception {
    SSLContext client = TestPki.clientContext(ca, null);
    expectHandshake("rotating", "downstream", "false", () -> exchange("rotating", client));
    awaitRotations(rotations() + 2);
    expectHandshake("rotating", "downstream", "false", () -> exchange("rotating", client));
  }
}
