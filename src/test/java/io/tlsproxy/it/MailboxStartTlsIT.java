package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.DovecotServer;
import io.tlsproxy.testkit.ExternalProcess;
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
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * IMAP's STARTTLS and POP3's STLS both ways against a real Dovecot: plaintext clients (Python's imaplib and poplib)
 * log in and read a message through originating listeners that upgrade to Dovecot's STARTTLS ports; openssl
 * upgrades with terminating listeners in front of Dovecot's plaintext ports. Servers that refuse or talk garbage,
 * clients that pipeline past the upgrade command or never upgrade: refused with their reason, nothing forwarded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MailboxStartTlsIT {

  private static final String HANDSHAKE_FAILURES = "tlsproxy_tls_handshake_failures_total";
  private static final String CONNECT_FAILURES = "tlsproxy_upstream_connect_failures_total";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private DovecotServer dovecot;
  /** Stands behind the terminating listeners whose clients misbehave: it must see no connection at all. */
  private TestServer untouched;
  private ProxyHarness proxy;

  @BeforeAll
  void start() throws Exception {
    assumeTrue(DovecotServer.installed(), "dovecot-imapd and dovecot-pop3d are not installed");
    TestPki pki = fx.pki();
    ca = pki.ca("mail-ca");
    dovecot = fx.closing(DovecotServer.start(fx.dir(), pki.server(ca, "mail.test", "mail.test")));
    TestPki.Issued proxyCert = pki.server(ca, "proxy.test", "proxy.test");
    untouched = fx.closing(TestServer.plain(TestServer.greeting("* OK untouched")));
    TestServer garbage = fx.closing(TestServer.plain((s, server) -> {
      s.getOutputStream().write("SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII));
      Clients.discardUntilEnd(s);
    }));
    StringBuilder yaml = new StringBuilder("listeners:\n");
    String plain = DovecotServer.PLAIN_HOST;
    for (String protocol : List.of("imap", "pop3")) {
      boolean imap = protocol.equals("imap");
      String upstreamTls = "tls: {serverName: mail.test, ca: %s, startTls: %s}".formatted(ca.certFile(), protocol);
      String listenerTls = "tls: {%s, startTls: %s}".formatted(ProxyFixture.certificates(proxyCert), protocol);
      yaml.append("""
            - name: %1$s-out
              listen: 127.0.0.1:0
              upstream: {endpoints: ["127.0.0.1:%2$d"], %3$s}
            - name: %1$s-out-refused
              listen: 127.0.0.1:0
              upstream: {endpoints: ["%4$s:%5$d"], %3$s}
            - name: %1$s-out-garbage
              listen: 127.0.0.1:0
              upstream: {endpoints: ["127.0.0.1:%6$d"], %3$s}
            - name: %1$s-in
              listen: 127.0.0.1:0
              %7$s
              upstream: {endpoints: ["%4$s:%5$d"]}
            - name: %1$s-in-guarded
              listen: 127.0.0.1:0
              %7$s
              upstream: {endpoints: ["127.0.0.1:%8$d"]}
          """.formatted(protocol, imap ? dovecot.imapTlsPort() : dovecot.pop3TlsPort(), upstreamTls, plain,
          imap ? dovecot.imapPlainPort() : dovecot.pop3PlainPort(), garbage.port(), listenerTls, untouched.port()));
    }
    proxy = fx.start(yaml.toString());
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
  void imapClientLogsInAndReadsTheMessageOverUpgradedUpstream() throws Exception {
    String out = python("""
        import imaplib
        m = imaplib.IMAP4("127.0.0.1", %d, timeout=30)
        print("WELCOME", m.welcome)
        print("CAPS", m.capabilities)
        m.login("%s", "%s")
        m.select()
        print(m.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])"))
        m.logout()
        """.formatted(proxy.port("imap-out"), DovecotServer.USER, DovecotServer.PASSWORD));
    assertTrue(out.contains("Subject: " + DovecotServer.SUBJECT), out);
    String welcome = out.lines().filter(l -> l.startsWith("WELCOME")).findFirst().orElseThrow();
    assertTrue(welcome.contains("Dovecot"), "the server's greeting text is kept: " + welcome);
    assertFalse(welcome.contains("STARTTLS") || welcome.contains("LOGINDISABLED"), welcome);
    assertFalse(out.contains("'STARTTLS'"), "no STARTTLS offered to the plaintext client: " + out);
    assertTrue(dovecot.log().contains("TLS"), dovecot.log());
  }

  @Test
  void pop3ClientLogsInAndReadsTheMessageOverUpgradedUpstream() throws Exception {
    String out = python("""
        import poplib
        p = poplib.POP3("127.0.0.1", %d, timeout=30)
        print("WELCOME", p.getwelcome())
        p.user("%s")
        p.pass_("%s")
        print(p.retr(1)[1])
        p.quit()
        """.formatted(proxy.port("pop3-out"), DovecotServer.USER, DovecotServer.PASSWORD));
    assertTrue(out.contains("Subject: " + DovecotServer.SUBJECT), out);
    assertTrue(out.contains("WELCOME b'+OK Dovecot"), out);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "imap, a LOGIN alice %s|b SELECT INBOX|c FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])|d LOGOUT, d OK",
      "pop3, USER alice|PASS %s|RETR 1|QUIT, +OK Logging out"})
  void opensslUpgradesWithTerminatingListenerAndReadsTheMessage(String protocol, String commands, String last)
      throws Exception {
    ExternalProcess p = fx.closing(ExternalProcess.start(null, List.of("openssl", "s_client", "-starttls", protocol,
        "-connect", "127.0.0.1:" + proxy.port(protocol + "-in"), "-servername", "proxy.test", "-CAfile",
        ca.certFile().toString(), "-verify_return_error", "-crlf", "-quiet")));
    String script = commands.formatted(DovecotServer.PASSWORD).replace('|', '\n') + "\n";
    p.stdin().write(script.getBytes(StandardCharsets.US_ASCII));
    p.stdin().flush();
    p.awaitOutput(last, Duration.ofSeconds(30));
    assertTrue(p.output().contains("Subject: " + DovecotServer.SUBJECT), p.output());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"imap", "pop3"})
  void serverWithoutStartTlsIsRefused(String protocol) throws Exception {
    assertOriginateFails(protocol + "-out-refused", "starttls_refused");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"imap", "pop3"})
  void serverTalkingGarbageIsAProtocolError(String protocol) throws Exception {
    assertOriginateFails(protocol + "-out-garbage", "starttls_protocol_error");
  }

  private void assertOriginateFails(String listener, String reason) throws Exception {
    Scrape before = scrape();
    try (Socket s = Clients.plain(proxy.port(listener))) {
      Clients.assertClosedWithoutReply(s);
    }
    awaitOne(CONNECT_FAILURES, before, "listener", listener, "reason", reason);
    assertEquals(1.0, scrape().sum(HANDSHAKE_FAILURES, "listener", listener, "side", "upstream", "reason", reason)
        - before.sum(HANDSHAKE_FAILURES, "listener", listener, "side", "upstream", "reason", reason));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"imap, a STARTTLS|b LOGIN alice x, a OK", "pop3, STLS|USER alice, +OK Begin"})
  void clientPipeliningAfterTheUpgradeCommandIsRefusedAndNothingForwarded(String protocol, String talk,
                                                                          String goAhead) throws Exception {
    Scrape before = scrape();
    String listener = protocol + "-in-guarded";
    try (Socket s = Clients.plain(proxy.port(listener))) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      in.readLine();
      s.getOutputStream().write((talk.replace("|", "\r\n") + "\r\n").getBytes(StandardCharsets.US_ASCII));
      StringBuilder got = new StringBuilder();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        got.append(line).append('\n');
      }
      assertFalse(got.toString().contains(goAhead), "no go-ahead for a pipelined upgrade: " + got);
    }
    awaitOne(HANDSHAKE_FAILURES, before, "listener", listener, "side", "downstream", "reason",
        "starttls_protocol_error");
    assertEquals(0, untouched.served(), "the backend was not even dialled");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "imap, a LOGIN alice x, a NO [PRIVACYREQUIRED], b LOGOUT, b OK",
      "pop3, USER alice, -ERR [AUTH] TLS required, QUIT, +OK"})
  void clientThatNeverUpgradesGetsTheRefusalAndNothingForwarded(String protocol, String command, String refusal,
                                                                 String quit, String bye) throws Exception {
    Scrape before = scrape();
    String listener = protocol + "-in-guarded";
    try (Socket s = Clients.plain(proxy.port(listener))) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      var out = s.getOutputStream();
      in.readLine();
      out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
      assertTrue(in.readLine().startsWith(refusal));
      out.write((quit + "\r\n").getBytes(StandardCharsets.US_ASCII));
      String line;
      String lastLine = null;
      while ((line = in.readLine()) != null) {
        lastLine = line;
      }
      assertTrue(lastLine != null && lastLine.startsWith(bye), String.valueOf(lastLine));
    }
    awaitOne(HANDSHAKE_FAILURES, before, "listener", listener, "side", "downstream", "reason", "starttls_required");
    assertEquals(0, untouched.served(), "the backend was not even dialled");
  }

  private void awaitOne(String metric, Scrape before, String... labels) {
    Await.until(metric + " " + String.join(",", labels), Duration.ofSeconds(10), () -> {
      try {
        return scrape().sum(metric, labels) - before.sum(metric, labels) == 1.0;
      } catch (Exception e) {
        return false;
      }
    });
  }
}
