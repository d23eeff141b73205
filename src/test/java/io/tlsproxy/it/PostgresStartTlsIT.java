package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.PostgresServer;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL through tlsproxy with {@code startTls: postgres}, against real servers started from the distribution's
 * packages: a plaintext psql reaches a server that has TLS (the upgrade done by tlsproxy, which verifies the
 * server), and a psql that insists on a verified TLS session reaches a server without TLS. Servers that refuse the
 * upgrade or answer garbage, and clients that pipeline bytes after their SSLRequest, are refused with their reason,
 * nothing is forwarded, and the proxy keeps serving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresStartTlsIT {

  private static final Duration CLIENT = Duration.ofSeconds(30);
  private static final byte[] SSL_REQUEST = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f};

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private TestPki.Issued ca;
  private ProxyHarness proxy;
  private TestServer garbage;
  private TestServer pipelining;

  @BeforeAll
  void start() throws Exception {
    TestPki pki = fx.pki();
    ca = pki.ca("ca");
    PostgresServer withTls = fx.closing(PostgresServer.start(pki.server(ca, "postgres", "localhost", "127.0.0.1")));
    PostgresServer withoutTls = fx.closing(PostgresServer.start(null));
    TestPki.Issued proxyCert = pki.server(ca, "proxy", "localhost", "127.0.0.1");
    // A "server" that answers the SSLRequest with a line of text, and one that sends a message after its 'S'.
    garbage = fx.backend((socket, server) -> {
      socket.getInputStream().readNBytes(8);
      socket.getOutputStream().write("HTTP/1.0 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.getInputStream().read();
    });
    pipelining = fx.backend((socket, server) -> {
      socket.getInputStream().readNBytes(8);
      socket.getOutputStream().write(new byte[] {'S', 'E', 0, 0, 0, 4});
      socket.getInputStream().read();
    });
    String upstreamTls = "tls: {serverName: localhost, ca: " + ca.certFile() + ", startTls: postgres}";
    proxy = fx.start("""
        listeners:
          - name: pg-out
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: pg-in
            listen: 127.0.0.1:0
            tls: {%s, startTls: postgres, alpn: [postgresql]}
            upstream: {endpoints: [127.0.0.1:%d]}
          - name: pg-refused
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: pg-garbage
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
          - name: pg-pipelining
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d], %s}
        """.formatted(withTls.port(), upstreamTls, ProxyFixture.certificates(proxyCert), withoutTls.port(),
        withoutTls.port(), upstreamTls, garbage.port(), upstreamTls, pipelining.port(), upstreamTls));
  }

  private static ExternalProcess psql(String conninfo, String sql) throws Exception {
    return ExternalProcess.run(null, CLIENT, "psql", "-X", "-A", "-t", "-c", sql,
        conninfo + " user=postgres dbname=postgres connect_timeout=10");
  }

  /** Whether the server sees its session as TLS, asked through listener {@code listener} with {@code sslmode}. */
  private String sessionTlsThrough(String listener, String conninfo) throws Exception {
    ExternalProcess p = psql("port=" + proxy.port(listener) + " " + conninfo,
        "select ssl from pg_stat_ssl where pid = pg_backend_pid()");
    assertEquals(0, p.process().exitValue(), p.output());
    return p.output().strip();
  }

  private Scrape scrape() throws Exception {
    return Scrape.of(proxy.adminPort());
  }

  private double failures(String listener, String side, String reason) throws Exception {
    return scrape().sum("tlsproxy_tls_handshake_failures_total", "listener", listener, "side", side,
        "reason", reason);
  }

  /** Failures are counted when the connection is closed, which the client may see first. */
  private void awaitFailures(String listener, String side, String reason, double expected) throws Exception {
    Await.until(reason + " counted on " + listener, Duration.ofSeconds(10), () -> {
      try {
        return failures(listener, side, reason) == expected;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @Test
  void plaintextPsqlRunsQueriesOnATlsServerThroughAnOriginatingListener() throws Exception {
    double before = scrape().sum("tlsproxy_tls_handshakes_total", "listener", "pg-out", "side", "upstream");
    ExternalProcess select = psql("host=127.0.0.1 port=" + proxy.port("pg-out") + " sslmode=disable", "select 1");
    assertEquals(0, select.process().exitValue(), select.output());
    assertEquals("1", select.output().strip());
    // The server's own view: the session it serves is TLS, though psql spoke plaintext.
    assertEquals("t", sessionTlsThrough("pg-out", "host=127.0.0.1 sslmode=disable"));
    // psql's default (prefer) sends its own SSLRequest: tlsproxy answers N and the session goes on.
    assertEquals("t", sessionTlsThrough("pg-out", "host=127.0.0.1 sslmode=prefer"));
    Await.until("three upstream handshakes counted", Duration.ofSeconds(10), () -> {
      try {
        return scrape().sum("tlsproxy_tls_handshakes_total", "listener", "pg-out", "side", "upstream")
            >= before + 3;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @Test
  void verifyingPsqlReachesAServerWithoutTlsThroughATerminatingListener() throws Exception {
    double before = scrape().sum("tlsproxy_tls_handshakes_total", "listener", "pg-in", "side", "downstream");
    String conninfo = "host=localhost sslmode=verify-full sslrootcert=" + ca.certFile();
    ExternalProcess select = psql("port=" + proxy.port("pg-in") + " " + conninfo, "select 1");
    assertEquals(0, select.process().exitValue(), select.output());
    assertEquals("1", select.output().strip());
    // The backend itself has no TLS: tlsproxy terminated it.
    assertEquals("f", sessionTlsThrough("pg-in", conninfo));
    assertTrue(scrape().sum("tlsproxy_tls_handshakes_total", "listener", "pg-in", "side", "downstream")
        >= before + 2);
  }

  @Test
  void plaintextPsqlAtATerminatingListenerIsToldSslRequiredAndCounted() throws Exception {
    double before = failures("pg-in", "downstream", "starttls_required");
    ExternalProcess p = psql("host=127.0.0.1 port=" + proxy.port("pg-in") + " sslmode=disable", "select 1");
    assertNotEquals(0, p.process().exitValue(), p.output());
    assertTrue(p.output().contains("SSL required"), p.output());
    awaitFailures("pg-in", "downstream", "starttls_required", before + 1);
  }

  /** What libpq 17 does with sslnegotiation=direct: the TLS handshake at once, ALPN "postgresql" required. */
  @Test
  void directTlsWithAlpnPostgresqlReachesTheBackend() throws Exception {
    SSLSocket s = Clients.tlsBeforeHandshake(TestPki.clientContext(ca, null), proxy.port("pg-in"), "localhost",
        null, null);
    try (s) {
      SSLParameters params = s.getSSLParameters();
      params.setApplicationProtocols(new String[] {"postgresql"});
      s.setSSLParameters(params);
      s.startHandshake();
      assertEquals("postgresql", s.getApplicationProtocol());
      byte[] parameters = "user\0postgres\0database\0postgres\0\0".getBytes(StandardCharsets.US_ASCII);
      ByteBuffer startup = ByteBuffer.allocate(8 + parameters.length).putInt(8 + parameters.length)
          .putInt(196608).put(parameters);
      s.getOutputStream().write(startup.array());
      s.getOutputStream().flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      assertEquals('R', in.readByte(), "AuthenticationOk from the backend (trust)");
      assertEquals(8, in.readInt());
      assertEquals(0, in.readInt());
    }
  }

  @Test
  void psqlWithDirectTlsNegotiationReachesTheBackend() throws Exception {
    ExternalProcess version = ExternalProcess.run(null, CLIENT, "psql", "--version");
    Matcher m = Pattern.compile("(\\d+)\\.").matcher(version.output());
    assumeTrue(m.find() && Integer.parseInt(m.group(1)) >= 17, "psql before 17 has no sslnegotiation=direct: "
        + version.output().strip());
    ExternalProcess p = psql("host=localhost port=" + proxy.port("pg-in") + " sslmode=verify-full sslrootcert="
        + ca.certFile() + " sslnegotiation=direct", "select 1");
    assertEquals(0, p.process().exitValue(), p.output());
    assertEquals("1", p.output().strip());
  }

  @Test
  void serverWithoutTlsIsRefusedAndCountedAndNothingIsForwarded() throws Exception {
    double before = failures("pg-refused", "upstream", "starttls_refused");
    ExternalProcess p = psql("host=127.0.0.1 port=" + proxy.port("pg-refused") + " sslmode=disable", "select 1");
    assertNotEquals(0, p.process().exitValue(), p.output());
    awaitFailures("pg-refused", "upstream", "starttls_refused", before + 1);
    assertTrue(scrape().sum("tlsproxy_upstream_connect_failures_total", "listener", "pg-refused",
        "reason", "starttls_refused") >= 1, scrape().text());
    assertProxyStillServes();
  }

  @Test
  void serverAnsweringGarbageIsAProtocolError() throws Exception {
    double before = failures("pg-garbage", "upstream", "starttls_protocol_error");
    ExternalProcess p = psql("host=127.0.0.1 port=" + proxy.port("pg-garbage") + " sslmode=disable", "select 1");
    assertNotEquals(0, p.process().exitValue(), p.output());
    awaitFailures("pg-garbage", "upstream", "starttls_protocol_error", before + 1);
    assertProxyStillServes();
  }

  @Test
  void serverSendingBytesAfterItsSIsRefusedBeforeTls() throws Exception {
    double before = failures("pg-pipelining", "upstream", "starttls_protocol_error");
    ExternalProcess p = psql("host=127.0.0.1 port=" + proxy.port("pg-pipelining") + " sslmode=disable",
        "select 1");
    assertNotEquals(0, p.process().exitValue(), p.output());
    awaitFailures("pg-pipelining", "upstream", "starttls_protocol_error", before + 1);
    assertProxyStillServes();
  }

  @Test
  void clientPipeliningAStartupPacketAfterItsSslRequestGetsNoSAndIsClosed() throws Exception {
    double before = failures("pg-in", "downstream", "starttls_protocol_error");
    byte[] parameters = "user\0postgres\0\0".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer both = ByteBuffer.allocate(8 + 8 + parameters.length).put(SSL_REQUEST)
        .putInt(8 + parameters.length).putInt(196608).put(parameters);
    try (Socket s = Clients.plain(proxy.port("pg-in"))) {
      OutputStream out = s.getOutputStream();
      out.write(both.array());
      out.flush();
      InputStream in = s.getInputStream();
      assertEquals(-1, in.read(), "no 'S', and nothing from the backend: the connection is just closed");
    }
    awaitFailures("pg-in", "downstream", "starttls_protocol_error", before + 1);
    assertProxyStillServes();
  }

  private void assertProxyStillServes() throws Exception {
    ExternalProcess select = psql("host=127.0.0.1 port=" + proxy.port("pg-out") + " sslmode=disable", "select 1");
    assertEquals("1", select.output().strip(), select.output());
  }
}
