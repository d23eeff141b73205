package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One port, several upstreams chosen by the client's SNI name: in terminate mode (the proxy completes the
 * handshake, with a route's own certificate where it has one) and in passthrough mode (the client's TLS reaches
 * the backend untouched, so the client sees the backend's certificate). Every backend says who it is.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SniRoutingIT {

  private static final Duration WAIT = Duration.ofSeconds(15);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private final List<TestServer> backends = new ArrayList<>();
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    ca = pki.ca("routing-ca");
    TestPki.Issued listenerCert = pki.server(ca, "listener", "proxy.routes.test");
    TestPki.Issued apiOwn = pki.server(ca, "api-own", "api.routes.test");
    int api = plainBackend("api");
    int apps = plainBackend("apps");
    int db = plainBackend("db");
    int fallback = plainBackend("fallback");
    int first = plainBackend("first");
    int second = plainBackend("second");
    int tlsApi = tlsBackend(pki.server(ca, "api-backend", "api.routes.test"), "api");
    int tlsApps = tlsBackend(pki.server(ca, "apps-backend", "*.apps.routes.test"), "apps");
    int tlsDb = tlsBackend(pki.server(ca, "db-backend", "db.routes.test"), "db");
    int tlsFallback = tlsBackend(pki.server(ca, "fallback-backend", "fallback.routes.test"), "fallback");
    logs = fx.logs();
    String tls = "tls: {" + ProxyFixture.certificates(listenerCert) + "}";
    proxy = fx.start("""
        listeners:
          - name: terminate
            listen: 127.0.0.1:0
            %1$s
            routes:
              - serverNames: [API.routes.test.]
                certificates: [{cert: %2$s, key: %3$s}]
                upstream: {endpoints: [127.0.0.1:%4$d]}
              - name: apps
                serverNames: ["*.apps.routes.test"]
                upstream: {endpoints: [127.0.0.1:%5$d]}
              - serverNames: [db.routes.test]
                upstream: {endpoints: [127.0.0.1:%6$d]}
            upstream: {endpoints: [127.0.0.1:%7$d]}
          - name: ordered
            listen: 127.0.0.1:0
            %1$s
            routes:
              - serverNames: ["*.order.test"]
                upstream: {endpoints: [127.0.0.1:%8$d]}
              - serverNames: [x.order.test]
                upstream: {endpoints: [127.0.0.1:%9$d]}
          - name: strict
            listen: 127.0.0.1:0
            %1$s
            routes:
              - serverNames: [api.routes.test]
                upstream: {endpoints: [127.0.0.1:%4$d]}
          - name: pass
            listen: 127.0.0.1:0
            passthrough: true
            routes:
              - serverNames: [api.routes.test]
                upstream: {endpoints: [127.0.0.1:%10$d]}
              - serverNames: ["*.apps.routes.test"]
                upstream: {endpoints: [127.0.0.1:%11$d]}
              - serverNames: [db.routes.test]
                upstream: {endpoints: [127.0.0.1:%12$d]}
            upstream: {endpoints: [127.0.0.1:%13$d]}
          - name: pass-strict
            listen: 127.0.0.1:0
            passthrough: true
            routes:
              - serverNames: [api.routes.test]
                upstream: {endpoints: [127.0.0.1:%10$d]}
        """.formatted(tls, apiOwn.certFile(), apiOwn.keyFile(), api, apps, db, fallback, first, second, tlsApi,
        tlsApps, tlsDb, tlsFallback));
  }

  /** An empty name means the client sends no SNI. */
  @ParameterizedTest(name = "terminate: {0} -> {1} with certificate {2}")
  @CsvSource({
      "api.routes.test,    api,      api-own",
      "Api.Routes.Test,    api,      api-own",
      "x.apps.routes.test, apps,     listener",
      "db.routes.test,     db,       listener",
      "other.routes.test,  fallback, listener",
      "a.b.apps.routes.test, fallback, listener",
      ",                   fallback, listener"})
  void terminateRoutesByServerName(String sni, String backend, String certificate) throws Exception {
    try (SSLSocket s = Clients.tls(freshClient(), proxy.port("terminate"), sni)) {
      assertEquals("CN=" + certificate, subject(s));
      assertEquals(backend, whoAnswers(s));
    }
  }

  @ParameterizedTest(name = "passthrough: {0} -> {1}")
  @CsvSource({
      "api.routes.test,    api,      api-backend",
      "x.apps.routes.test, apps,     apps-backend",
      "db.routes.test,     db,       db-backend",
      "other.routes.test,  fallback, fallback-backend",
      ",                   fallback, fallback-backend"})
  void passthroughForwardsTheClientsTlsToTheRoutedBackend(String sni, String backend, String certificate)
      throws Exception {
    // The client verifies with the test CA: the chain it sees is the backend's own, end to end.
    try (SSLSocket s = Clients.tls(freshClient(), proxy.port("pass"), sni)) {
      assertEquals("CN=" + certificate, subject(s));
      assertEquals(backend, whoAnswers(s));
    }
  }

  @Test
  void firstMatchingRouteWinsEvenOverALaterExactName() throws Exception {
    try (SSLSocket s = Clients.tls(freshClient(), proxy.port("ordered"), "x.order.test")) {
      assertEquals("first", whoAnswers(s));
    }
  }

  @Test
  void unknownServerNameWithoutDefaultIsRefusedInTerminateMode() throws Exception {
    double before = failures("strict");
    SSLHandshakeException e = assertThrows(SSLHandshakeException.class,
        () -> Clients.tls(freshClient(), proxy.port("strict"), "nobody.routes.test").close());
    assertTrue(String.valueOf(e.getMessage()).contains("unrecognized_name"), e::toString);
    Await.until("the refusal is counted", WAIT, () -> failures("strict") == before + 1);
    // A client without SNI has no name to route on either.
    assertThrows(SSLHandshakeException.class,
        () -> Clients.tls(freshClient(), proxy.port("strict"), null).close());
    Await.until("the refusal is counted", WAIT, () -> failures("strict") == before + 2);
  }

  @Test
  void unknownServerNameWithoutDefaultIsRefusedInPassthroughMode() throws Exception {
    double before = rejected("pass-strict", "unknown_server_name");
    SSLHandshakeException e = assertThrows(SSLHandshakeException.class,
        () -> Clients.tls(freshClient(), proxy.port("pass-strict"), "nobody.routes.test").close());
    assertTrue(String.valueOf(e.getMessage()).contains("unrecognized_name"), e::toString);
    Await.until("the refusal is counted", WAIT,
        () -> rejected("pass-strict", "unknown_server_name") == before + 1);
  }

  @Test
  void nonTlsClientOnPassthroughListenerIsClosedAndCounted() throws Exception {
    double before = rejected("pass", "not_tls");
    int reachedBackends = backends.stream().mapToInt(TestServer::served).sum();
    try (Socket s = Clients.plain(proxy.port("pass"))) {
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: api.routes.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      Clients.assertClosedWithoutReply(s);
      String line = logs.connectionLineOf("pass", s);
      assertTrue(line.contains(" close=rejected:not_tls"), line);
    }
    Await.until("the rejection is counted", WAIT, () -> rejected("pass", "not_tls") == before + 1);
    assertEquals(reachedBackends, backends.stream().mapToInt(TestServer::served).sum(),
        "a backend was reached by a connection that was not TLS");
  }

  @Test
  void helloInSeveralWritesReachesTheBackendUntouched() throws Exception {
    byte[] hello = Clients.recordClientHello(freshClient(), "db.routes.test");
    try (Socket s = Clients.plain(proxy.port("pass"))) {
      s.setTcpNoDelay(true);
      for (int off = 0; off < hello.length; off += 100) {
        s.getOutputStream().write(hello, off, Math.min(100, hello.length - off));
        s.getOutputStream().flush();
      }
      // The backend's JDK server parsed the forwarded hello and answers with a handshake record.
      assertEquals(22, s.getInputStream().read(), "expected the backend's ServerHello record");
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"truncated, peer_closed", "malformed, malformed_client_hello"})
  void brokenHelloOnPassthroughListenerIsClosedAndCounted(String kind, String reason) throws Exception {
    byte[] hello = Clients.recordClientHello(freshClient(), "api.routes.test");
    byte[] sent = kind.equals("truncated") ? java.util.Arrays.copyOf(hello, hello.length / 2) : hello.clone();
    if (kind.equals("malformed")) {
      sent[5 + 4 + 2 + 32] = (byte) 0xff; // a session id length past the end of the hello
    }
    double before = rejected("pass", reason);
    try (Socket s = Clients.plain(proxy.port("pass"))) {
      s.getOutputStream().write(sent);
      s.getOutputStream().flush();
      if (kind.equals("truncated")) {
        s.shutdownOutput();
      }
      Clients.assertClosedWithoutReply(s);
    }
    Await.until("the rejection is counted", WAIT, () -> rejected("pass", reason) == before + 1);
  }

  @Test
  void resetMidHelloIsCounted() throws Exception {
    byte[] hello = Clients.recordClientHello(freshClient(), "api.routes.test");
    double before = rejected("pass", "peer_closed");
    try (Socket s = Clients.plain(proxy.port("pass"))) {
      s.getOutputStream().write(hello, 0, 10);
      s.getOutputStream().flush();
      s.setSoLinger(true, 0); // close with a reset
    }
    Await.until("the reset is counted", WAIT, () -> rejected("pass", "peer_closed") == before + 1);
  }

  @Test
  void routeIsLoggedAndCounted() throws Exception {
    double before = routed("terminate", "apps");
    try (SSLSocket s = Clients.tls(freshClient(), proxy.port("terminate"), "y.apps.routes.test")) {
      assertEquals("apps", whoAnswers(s));
      s.close();
      String line = logs.connectionLineOf("terminate", s);
      assertTrue(line.contains(" route=apps "), line);
    }
    Await.until("the route's connection is counted", WAIT, () -> routed("terminate", "apps") == before + 1);
    try (SSLSocket s = Clients.tls(freshClient(), proxy.port("pass"), "other.routes.test")) {
      assertEquals("fallback", whoAnswers(s));
    }
    Await.until("the default route is counted", WAIT, () -> routed("pass", "default") >= 1);
  }

  @Test
  void routeMaterialIsListedAndReloaded() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued v1 = pki.server(ca, "route-v1", "api.routes.test");
    TestPki.Issued v2 = pki.server(ca, "route-v2", "api.routes.test");
    TestPki.Issued listenerCert = pki.server(ca, "reload-listener", "proxy.routes.test");
    int backend = tlsBackend(pki.server(ca, "reload-backend", "backend.routes.test"), "api");
    ProxyHarness p = fx.start("""
        listeners:
          - name: reload
            listen: 127.0.0.1:0
            tls: {%s}
            routes:
              - name: api
                serverNames: [api.routes.test]
                %s
                upstream: {endpoints: [127.0.0.1:%d], tls: {serverName: backend.routes.test, ca: %s}}
        reload: {checkInterval: 0}
        """.formatted(ProxyFixture.certificates(listenerCert), ProxyFixture.certificates(v1), backend,
        ca.certFile()));
    try (SSLSocket s = Clients.tls(freshClient(), p.port("reload"), "api.routes.test")) {
      assertEquals("CN=route-v1", subject(s));
      assertEquals("api", whoAnswers(s), "the route's upstream TLS is verified with its own CA");
    }
    String certs = Scrape.get(p.adminPort(), "/certs", null).body();
    assertTrue(certs.contains("CN=route-v1"), certs);
    assertTrue(certs.contains("\"route\" : \"api\""), certs);
    java.nio.file.Files.copy(v2.certFile(), v1.certFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    java.nio.file.Files.copy(v2.keyFile(), v1.keyFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertEquals(1, p.reloadCertificates());
    try (SSLSocket s = Clients.tls(freshClient(), p.port("reload"), "api.routes.test")) {
      assertEquals("CN=route-v2", subject(s));
    }
  }

  private double failures(String listener) {
    return scrape().sum("tlsproxy_tls_handshake_failures_total", "listener", listener,
        "reason", "unknown_server_name");
  }

  private double rejected(String listener, String reason) {
    return scrape().sum("tlsproxy_connections_rejected_total", "listener", listener,
        "reason", reason);
  }

  private double routed(String listener, String route) {
    return scrape().sum("tlsproxy_route_connections_total", "listener", listener,
        "route", route);
  }

  private Scrape scrape() {
    try {
      return Scrape.of(proxy.adminPort());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A plain backend that names itself on connect, then waits for the client to finish. */
  private int plainBackend(String name) throws IOException {
    TestServer s = fx.backend((socket, server) -> introduce(socket, name));
    backends.add(s);
    return s.port();
  }

  private int tlsBackend(TestPki.Issued certificate, String name) throws IOException {
    TestServer s = fx.tlsBackend(certificate, null, (socket, server) -> introduce(socket, name));
    backends.add(s);
    return s.port();
  }

  private static void introduce(Socket socket, String name) throws IOException {
    socket.getOutputStream().write((name + "\n").getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    InputStream in = socket.getInputStream();
    while (in.read() >= 0) {
      // until the client closes
    }
  }

  private static String whoAnswers(Socket s) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    InputStream in = s.getInputStream();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      line.write(b);
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  private static String subject(SSLSocket s) throws IOException {
    return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
  }

  /** A client without earlier sessions, so that no name resumes a session made for another. */
  private SSLContext freshClient() {
    return TestPki.clientContext(ca, null);
  }
}
