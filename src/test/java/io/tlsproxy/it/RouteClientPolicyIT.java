package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.LogCapture;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import io.tlsproxy.testkit.TlsAttempt;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three names on one terminating listener, each with its own client policy: partners of CA A (the listener's own
 * policy, inherited by its route), partners of CA B with an allow-list (the route's own), and a public name that
 * asks for no certificate. Each client gets exactly the policy of the name it sends, a session made under one
 * name's policy does not resume under another's, and reloading one route's CA changes that route only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RouteClientPolicyIT {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String FAILURES = "tlsproxy_tls_handshake_failures_total";
  private static final byte[] HELLO = "hello by name".getBytes(StandardCharsets.UTF_8);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki pki;
  private TestPki.Issued serverCa;
  private TestPki.Issued caA;
  private TestPki.Issued caB;
  private TestPki.Issued alice;
  private TestPki.Issued bob;
  private TestPki.Issued bert;
  private Path reloadingCaB;
  private ProxyHarness proxy;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    pki = fx.pki();
    serverCa = pki.ca("route-server-ca");
    caA = pki.ca("partner-a-ca");
    caB = pki.ca("partner-b-ca");
    alice = pki.client(caA, "alice");
    bob = pki.client(caB, "bob");
    bert = pki.client(caB, "bert");
    Path revoked = pki.crl(caB, bert);
    TestPki.Issued proxyCert = pki.server(serverCa, "gateway", "a.test", "b.test", "www.test");
    TestServer echo = fx.echoBackend();
    reloadingCaB = fx.dir().resolve("reloading-ca-b.pem");
    Files.copy(caB.certFile(), reloadingCaB);
    logs = fx.logs();
    String up = "upstream: {endpoints: [127.0.0.1:" + echo.port() + "]}";
    proxy = fx.start("""
        reload: {checkInterval: 0}
        listeners:
          - name: gateway
            listen: 127.0.0.1:0
            tls: {%1$s, clientAuth: required, clientCa: %2$s}
            %4$s
            routes:
              - {name: partner-a, serverNames: [a.test], %4$s}
              - {name: partner-b, serverNames: [b.test], clientAuth: required, clientCa: %3$s,
                 allow: {commonNames: [bob, bert]}, crl: %6$s, %4$s}
              - {name: public, serverNames: [www.test], clientAuth: none, %4$s}
          - name: reloading
            listen: 127.0.0.1:0
            tls: {%1$s, clientAuth: required, clientCa: %2$s}
            %4$s
            routes:
              - {name: partner-a, serverNames: [a.test], clientAuth: required, clientCa: %2$s, %4$s}
              - {name: partner-b, serverNames: [b.test], clientAuth: required, clientCa: %5$s, %4$s}
        """.formatted(ProxyFixture.certificates(proxyCert), caA.certFile(), caB.certFile(), up, reloadingCaB,
            revoked));
  }

  @Test
  void partnerOfCaAIsAdmittedOnItsNameAndRefusedOnTheOtherPartnersName() throws Exception {
    admitted("gateway", "a.test", alice);
    refused("gateway", "b.test", alice, "unknown_ca");
  }

  @Test
  void partnerOfCaBIsAdmittedOnItsNameAndRefusedOnTheOtherPartnersName() throws Exception {
    admitted("gateway", "b.test", bob);
    refused("gateway", "a.test", bob, "unknown_ca");
  }

  @Test
  void clientWithoutCertificateIsRefusedOnBothPartnerNames() throws Exception {
    refused("gateway", "a.test", null, "no_client_certificate");
    refused("gateway", "b.test", null, "no_client_certificate");
  }

  @Test
  void routeAllowListRefusesAnotherClientOfItsCa() throws Exception {
    refused("gateway", "b.test", pki.client(caB, "carol"), "client_not_allowed");
  }

  @Test
  void routeRevocationListRefusesItsRevokedClientAndIsListedUnderItsRoute() throws Exception {
    refused("gateway", "b.test", bert, "certificate_revoked");
    List<String> crls = new ArrayList<>();
    for (Object o : new JsonArray(Scrape.get(proxy.adminPort(), "/certs", "application/json").body())) {
      JsonObject c = (JsonObject) o;
      if ("crl".equals(c.getString("role"))) {
        crls.add(c.getString("listener") + " " + c.getString("route") + " " + c.getString("issuer") + " "
            + c.getInteger("revoked"));
      }
    }
    assertEquals(List.of("gateway partner-b CN=partner-b-ca 1"), crls);
  }

  @Test
  void publicNameIsServedWithoutACertificateRequest() throws Exception {
    List<List<String>> requests = new CopyOnWriteArrayList<>();
    try (TlsAttempt a = TlsAttempt.echo(TestPki.clientContextRecordingRequests(serverCa, null, requests),
        proxy.port("gateway"), "www.test", HELLO)) {
      assertTrue(a.succeeded(), a::toString);
    }
    assertEquals(List.of(), requests, "certificate requests on the public name");
    // A partner name asks, and names its CA.
    try (TlsAttempt a = TlsAttempt.echo(TestPki.clientContextRecordingRequests(serverCa, alice, requests),
        proxy.port("gateway"), "a.test", HELLO)) {
      assertTrue(a.succeeded(), a::toString);
    }
    assertEquals(1, requests.size(), requests::toString);
  }

  @Test
  void opensslSeesNoCaNamesOnThePublicNameAndItsCaOnAPartnerName() throws Exception {
    String open = sClient("www.test", null);
    assertTrue(open.contains("No client certificate CA names sent"), open);
    String partner = sClient("b.test", bob);
    assertTrue(partner.contains("Acceptable client certificate CA names"), partner);
    assertTrue(partner.contains("partner-b-ca"), partner);
    assertFalse(partner.contains("partner-a-ca"), partner);
  }

  @Test
  void clientWithoutSniOrWithAnUnknownNameGetsTheListenersPolicy() throws Exception {
    refused("gateway", null, null, "no_client_certificate");
    refused("gateway", "other.test", null, "no_client_certificate");
    refused("gateway", "other.test", bob, "unknown_ca");
    admitted("gateway", null, alice);
  }

  @Test
  void sessionFromThePublicNameDoesNotResumeOnAPartnerName() throws Exception {
    for (String protocol : new String[] {"-tls1_3", "-tls1_2"}) {
      Path session = fx.dir().resolve("public" + protocol + ".session");
      String first = sClient("www.test", null, protocol, "-sess_out", session.toString());
      assertTrue(first.contains("New, TLSv1."), first);
      assertTrue(Files.size(session) > 0, "no session was saved: " + first);
      // The same name resumes: the session itself is good.
      String again = sClient("www.test", null, protocol, "-sess_in", session.toString());
      assertTrue(again.contains("Reused, TLSv1."), again);
      double before = failures("gateway", "no_client_certificate");
      String other = sClient("b.test", null, protocol, "-sess_in", session.toString());
      assertFalse(other.contains("Reused, TLSv1."), other);
      awaitFailures("gateway", "no_client_certificate", before + 1);
    }
  }

  @Test
  void sessionOfOnePartnerDoesNotResumeOnTheOtherPartnersName() throws Exception {
    Path session = fx.dir().resolve("partner-a.session");
    String first = sClient("a.test", alice, "-tls1_3", "-sess_out", session.toString());
    assertTrue(first.contains("New, TLSv1.3"), first);
    double before = failures("gateway", "no_client_certificate");
    String other = sClient("b.test", null, "-tls1_3", "-sess_in", session.toString());
    assertFalse(other.contains("Reused, TLSv1."), other);
    awaitFailures("gateway", "no_client_certificate", before + 1);
  }

  @Test
  void reloadingOneRoutesCaChangesThatRouteOnly() throws Exception {
    admitted("reloading", "b.test", bob);
    admitted("reloading", "a.test", alice);
    TestPki.Issued caC = pki.ca("partner-c-ca");
    TestPki.Issued carl = pki.client(caC, "carl");
    refused("reloading", "b.test", carl, "unknown_ca");
    Path next = fx.dir().resolve("reloading-ca-b.next");
    Files.copy(caC.certFile(), next);
    Files.move(next, reloadingCaB, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    assertTrue(proxy.reloadCertificates() >= 1, "listeners reloaded");
    admitted("reloading", "b.test", carl);
    refused("reloading", "b.test", bob, "unknown_ca");
    admitted("reloading", "a.test", alice);
    refused("reloading", "a.test", carl, "unknown_ca");
    JsonArray certs = new JsonArray(Scrape.get(proxy.adminPort(), "/certs", "application/json").body());
    List<String> routeCas = new ArrayList<>();
    for (Object o : certs) {
      JsonObject c = (JsonObject) o;
      if ("reloading".equals(c.getString("listener")) && "ca".equals(c.getString("role"))) {
        routeCas.add(c.getString("route", "(listener)") + " " + c.getString("subject"));
      }
    }
    assertEquals(List.of("(listener) CN=partner-a-ca", "partner-a CN=partner-a-ca", "partner-b CN=partner-c-ca"),
        routeCas);
  }

  /** One echo through {@code listener} with {@code sni} (null: none), presenting {@code client}'s certificate. */
  private void admitted(String listener, String sni, TestPki.Issued client) throws Exception {
    try (TlsAttempt a = TlsAttempt.echo(TestPki.clientContextPresentingAnyway(serverCa, client),
        proxy.port(listener), sni, HELLO)) {
      assertTrue(a.succeeded(), () -> sni + ": " + a);
    }
  }

  /** The connection fails with {@code reason} in its log line and the handshake failure metric. */
  private void refused(String listener, String sni, TestPki.Issued client, String reason) throws Exception {
    SSLContext ctx = client == null ? TestPki.clientContext(serverCa, null)
        : TestPki.clientContextPresentingAnyway(serverCa, client);
    double before = failures(listener, reason);
    try (TlsAttempt a = TlsAttempt.echo(ctx, proxy.port(listener), sni, HELLO)) {
      assertFalse(a.succeeded(), () -> sni + ": " + a);
      String line = logs.connectionLineOf(listener, a.socket());
      assertTrue(line.endsWith(" close=handshake_failed:" + reason), line);
      assertFalse(line.contains(" upstream="), line);
    }
    awaitFailures(listener, reason, before + 1);
  }

  private double failures(String listener, String reason) throws Exception {
    return Scrape.of(proxy.adminPort()).sum(FAILURES, "listener", listener, "side", "downstream", "reason", reason);
  }

  private void awaitFailures(String listener, String reason, double expected) {
    Await.until(listener + " failures " + reason + " to reach " + expected, WAIT, () -> {
      try {
        return failures(listener, reason) >= expected;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /**
   * openssl s_client to the gateway with {@code name} as SNI, presenting {@code client} if given; it sends a line,
   * waits for its echo (so that a TLS 1.3 ticket has arrived) and ends. Returns everything it printed.
   */
  private String sClient(String name, TestPki.Issued client, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect",
        "127.0.0.1:" + proxy.port("gateway"), "-servername", name, "-CAfile", serverCa.certFile().toString()));
    if (client != null) {
      cmd.addAll(List.of("-cert", client.certFile().toString(), "-key", client.keyFile().toString()));
    }
    cmd.addAll(List.of(extra));
    try (ExternalProcess p = ExternalProcess.start(fx.dir(), cmd)) {
      p.stdin().write(HELLO);
      p.stdin().write('\n');
      p.stdin().flush();
      // s_client prints what it receives, not what it sends: the line shows up once echoed. A refused client
      // exits by itself.
      Await.until("s_client to end or print the echo", WAIT, () -> !p.process().isAlive()
          || p.output().contains(new String(HELLO, StandardCharsets.UTF_8)));
      p.stdin().close();
      p.awaitExit(WAIT);
      return p.output();
    }
  }
}
