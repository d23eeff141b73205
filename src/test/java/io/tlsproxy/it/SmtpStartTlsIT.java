package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.PostfixServer;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SMTP's STARTTLS both ways against a real Postfix: a plaintext client's mail goes through an originating listener
 * that upgrades to Postfix's STARTTLS port and lands in its queue; STARTTLS clients (openssl, swaks) upgrade with a
 * terminating listener in front of Postfix's plaintext port. Servers that refuse the upgrade or talk garbage, and
 * clients that pipeline past STARTTLS or never upgrade, are refused with their reason, and nothing is forwarded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SmtpStartTlsIT {

  private static final String HANDSHAKE_FAILURES = "tlsproxy_tls_handshake_failures_total";
  private static final String CONNECT_FAILURES = "tlsproxy_upstream_connect_failures_total";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private PostfixServer postfix;
  /** Stands behind the terminating listener whose clients misbehave: it must see no connection at all. */
  private TestServer untouched;
  private ProxyHarness proxy;

  @BeforeAll
  void start() throws Exception {
    assumeTrue(PostfixServer.installed(), "postfix is not installed");
    TestPki pki = fx.pki();
    ca = pki.ca("mail-ca");
    postfix = fx.closing(PostfixServer.start(fx.dir(), pki.server(ca, "mail.test", "mail.test")));
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    untouched = fx.closing(TestServer.plain(TestServer.greeting("220 untouched")));
    TestServer refusing = fx.closing(TestServer.plain(smtpServer("250 8BITMIME", null)));
    TestServer garbage = fx.closing(TestServer.plain((s, server) -> {
      s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      Clients.discardUntilEnd(s);
    }));
    TestServer injecting = fx.closing(TestServer.plain(smtpServer("250 STARTTLS", "220 go ahead\r\n250 injected")));
    String upstreamTls = "tls: {serverName: mail.test, ca: %s, startTls: smtp}".formatted(ca.certFile());
    String listenerTls = "tls: {%s, startTls: smtp}".formatted(ProxyFixture.certificates(proxyCert));
    proxy = fx.start("""
        listeners:
          - name: out
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: out-refused
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: out-garbage
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: out-injected
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: in
            listen: 127.0.0.1:0
            %s
            upstream: {endpoints: [127.0.0.1:%d]}
          - name: in-guarded
            listen: 127.0.0.1:0
            %s
            upstream: {endpoints: [127.0.0.1:%d]}
          - name: in-hurried
            listen: 127.0.0.1:0
            tls: {%s, startTls: smtp, handshakeTimeout: 1s}
            upstream: {endpoints: [127.0.0.1:%d]}
        """.formatted(postfix.tlsPort(), upstreamTls, postfix.plainPort(), upstreamTls, garbage.port(), upstreamTls,
        injecting.port(), upstreamTls, listenerTls, postfix.plainPort(), listenerTls, untouched.port(),
        ProxyFixture.certificates(proxyCert), untouched.port()));
  }

  /**
   * A scripted SMTP server: greets, answers EHLO with {@code ehloLast} as its last line, and STARTTLS with
   * {@code startTlsReply} (null: 502), then 250 to anything else.
   */
  private static TestServer.Behaviour smtpServer(String ehloLast, String startTlsReply) {
    return (s, server) -> {
      var out = s.getOutputStream();
      out.write("220 scripted ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      String line;
      while ((line = in.readLine()) != null) {
        String verb = line.split(" ")[0].toUpperCase();
        String reply = switch (verb) {
          case "EHLO" -> "250-scripted\r\n" + ehloLast;
          case "STARTTLS" -> startTlsReply == null ? "502 5.5.1 no" : startTlsReply;
          default -> "250 ok";
        };
        out.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    };
  }

  private Scrape scrape() throws Exception {
    return Scrape.of(proxy.adminPort());
  }

  private static String python(String script) throws Exception {
    ExternalProcess p = ExternalProcess.run(null, Duration.ofSeconds(60), "python3", "-c", script);
    assertEquals(0, p.process().exitValue(), p.output());
    return p.output();
  }

  @Test
  void plaintextClientMailLandsInPostfixOverUpgradedUpstream() throws Exception {
    Scrape before = scrape();
    String subject = "through-tlsproxy-" + UUID.randomUUID();
    String out = python("""
        import smtplib
        s = smtplib.SMTP("127.0.0.1", %d, timeout=30)
        code, caps = s.ehlo()
        print("EHLO", code, "starttls offered:", s.has_extn("starttls"))
        s.sendmail("app@client.test", ["someone@example.org"], "Subject: %s\\r\\n\\r\\nhello\\r\\n")
        s.quit()
        print("SENT")
        """.formatted(proxy.port("out"), subject));
    assertTrue(out.contains("EHLO 250 starttls offered: False"), out);
    assertTrue(out.contains("SENT"), out);
    Await.until("the mail is in Postfix's queue", Duration.ofSeconds(20), () -> postfix.holds(subject));
    assertTrue(postfix.log().contains("TLS connection established from localhost"), postfix.log());
    assertEquals(1.0, scrape().sum("tlsproxy_tls_handshakes_total", "listener", "out", "side", "upstream")
        - before.sum("tlsproxy_tls_handshakes_total", "listener", "out", "side", "upstream"));
  }

  @Test
  void plaintextClientAskingForStartTlsGetsTheServersRefusalNotAHang() throws Exception {
    String out = python("""
        import smtplib
        s = smtplib.SMTP("127.0.0.1", %d, timeout=30)
        s.ehlo()
        print("STARTTLS", s.docmd("STARTTLS")[0])
        s.quit()
        """.formatted(proxy.port("out")));
    assertTrue(out.matches("(?s).*STARTTLS [45]\\d\\d.*"), out);
  }

  @Test
  void serverWithoutStartTlsIsRefusedAndCounted() throws Exception {
    assertOriginateFails("out-refused", "starttls_refused");
  }

  @Test
  void serverTalkingGarbageIsAProtocolError() throws Exception {
    assertOriginateFails("out-garbage", "starttls_protocol_error");
  }

  @Test
  void serverSendingBytesAfterItsGoAheadBeforeTlsIsAProtocolError() throws Exception {
    assertOriginateFails("out-injected", "starttls_protocol_error");
  }

  private void assertOriginateFails(String listener, String reason) throws Exception {
    Scrape before = scrape();
    try (Socket s = Clients.plain(proxy.port(listener))) {
      Clients.assertClosedWithoutReply(s);
    }
    Await.until(reason + " counted", Duration.ofSeconds(10), () -> {
      try {
        return scrape().sum(CONNECT_FAILURES, "listener", listener, "reason", reason)
            > before.sum(CONNECT_FAILURES, "listener", listener, "reason", reason);
      } catch (Exception e) {
        return false;
      }
    });
    assertEquals(1.0, scrape().sum(HANDSHAKE_FAILURES, "listener", listener, "side", "upstream", "reason", reason)
        - before.sum(HANDSHAKE_FAILURES, "listener", listener, "side", "upstream", "reason", reason));
  }

  @Test
  void opensslUpgradesWithTerminatingListenerAndTalksToPostfix() throws Exception {
    ExternalProcess p = ExternalProcess.start(null, java.util.List.of("openssl", "s_client", "-starttls", "smtp",
        "-connect", "127.0.0.1:" + proxy.port("in"), "-servername", "proxy.test", "-CAfile", ca.certFile().toString(),
        "-verify_return_error", "-crlf", "-quiet"));
    fx.closing(p);
    p.stdin().write("EHLO client.test\nQUIT\n".getBytes(StandardCharsets.US_ASCII));
    p.stdin().flush();
    p.awaitOutput("221 2.0.0 Bye", Duration.ofSeconds(30));
    String out = p.output();
    assertTrue(out.contains("250-mail.test"), "Postfix answered EHLO over TLS:\n" + out);
    assertTrue(!out.contains("220 mail.test"), "Postfix's own greeting is not shown again:\n" + out);
  }

  @Test
  void swaksSendsMailOverTerminatingListener() throws Exception {
    String subject = "swaks-" + UUID.randomUUID();
    ExternalProcess p = ExternalProcess.run(null, Duration.ofSeconds(60), "swaks", "--server",
        "127.0.0.1:" + proxy.port("in"), "--tls", "--tls-verify", "--tls-ca-path", ca.certFile().toString(),
        "--tls-sni", "proxy.test", "--ehlo", "client.test", "--from", "app@client.test", "--to",
        "someone@example.org", "--header", "Subject: " + subject);
    assertEquals(0, p.process().exitValue(), p.output());
    Await.until("the mail is in Postfix's queue", Duration.ofSeconds(20), () -> postfix.holds(subject));
  }

  @Test
  void clientPipeliningAfterStartTlsIsRefusedAndNothingForwarded() throws Exception {
    Scrape before = scrape();
    try (Socket s = Clients.plain(proxy.port("in-guarded"))) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      assertTrue(in.readLine().startsWith("220 "));
      s.getOutputStream().write("EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      StringBuilder got = new StringBuilder();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        got.append(line).append('\n');
      }
      assertTrue(!got.toString().contains("220 2.0.0"), "no go-ahead for a pipelined STARTTLS: " + got);
    }
    awaitCounted("in-guarded", "starttls_protocol_error", before);
    assertEquals(0, untouched.served(), "the backend was not even dialled");
  }

  @Test
  void clientThatNeverUpgradesGetsTheRefusalAndNothingForwarded() throws Exception {
    Scrape before = scrape();
    try (Socket s = Clients.plain(proxy.port("in-guarded"))) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      var out = s.getOutputStream();
      assertTrue(in.readLine().startsWith("220 "));
      out.write("HELO c\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(in.readLine().startsWith("250 "));
      out.write("MAIL FROM:<a@b>\r\n".getBytes(StandardCharsets.US_ASCII));
      assertEquals("530 5.7.0 Must issue a STARTTLS command first", in.readLine());
      out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(in.readLine().startsWith("221 "));
      assertEquals(null, in.readLine());
    }
    awaitCounted("in-guarded", "starttls_required", before);
    assertEquals(0, untouched.served(), "the backend was not even dialled");
    opensslUpgradesWithTerminatingListenerAndTalksToPostfix(); // the process is unharmed
  }

  @Test
  void silentClientIsClosedAfterTheHandshakeTimeout() throws Exception {
    Scrape before = scrape();
    long start = System.nanoTime();
    try (Socket s = Clients.plain(proxy.port("in-hurried"))) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      assertTrue(in.readLine().startsWith("220 "));
      assertEquals(null, in.readLine(), "closed without another word");
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertTrue(took.compareTo(Duration.ofMillis(900)) > 0 && took.compareTo(Duration.ofSeconds(10)) < 0,
        "closed after about handshakeTimeout: " + took);
    awaitCounted("in-hurried", "timeout", before);
    assertEquals(0, untouched.served(), "the backend was not even dialled");
  }

  private void awaitCounted(String listener, String reason, Scrape before) {
    Await.until(reason + " counted", Duration.ofSeconds(10), () -> {
      try {
        return scrape().sum(HANDSHAKE_FAILURES, "listener", listener, "side", "downstream", "reason", reason)
            - before.sum(HANDSHAKE_FAILURES, "listener", listener, "side", "downstream", "reason", reason) == 1.0;
      } catch (Exception e) {
        return false;
      }
    });
  }
}
