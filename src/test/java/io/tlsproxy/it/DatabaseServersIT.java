package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.PostgresServer;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.SlapdServer;
import io.tlsproxy.testkit.TestPki;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real PostgreSQL and OpenLDAP servers that the STARTTLS scenarios put behind tlsproxy, reached directly by
 * their own clients: TLS is offered (and verified by name against the test CA) when the server has a certificate,
 * refused when it has none.
 */
class DatabaseServersIT {

  private static final Duration CLIENT = Duration.ofSeconds(30);

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();

  @Test
  void psqlReachesPostgresOverVerifiedTls() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("ca");
    PostgresServer pg = fx.closing(PostgresServer.start(pki.server(ca, "postgres", "localhost", "127.0.0.1")));
    ExternalProcess psql = ExternalProcess.run(null, CLIENT, "psql", "-X", "-A", "-t", "-c",
        "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
        "host=localhost port=" + pg.port() + " user=postgres dbname=postgres connect_timeout=10"
            + " sslmode=verify-full sslrootcert=" + ca.certFile());
    assertEquals(0, psql.process().exitValue(), psql.output());
    assertEquals("t", psql.output().strip());
  }

  @Test
  void postgresWithoutCertificateRefusesTls() throws Exception {
    PostgresServer pg = fx.closing(PostgresServer.start(null));
    ExternalProcess plain = ExternalProcess.run(null, CLIENT, "psql", "-X", "-A", "-t", "-c", "select 1",
        "host=127.0.0.1 port=" + pg.port() + " user=postgres dbname=postgres connect_timeout=10 sslmode=disable");
    assertEquals("1", plain.output().strip(), plain.output());
    ExternalProcess tls = ExternalProcess.run(null, CLIENT, "psql", "-X", "-A", "-t", "-c", "select 1",
        "host=127.0.0.1 port=" + pg.port() + " user=postgres dbname=postgres connect_timeout=10 sslmode=require");
    assertNotEquals(0, tls.process().exitValue(), tls.output());
    assertTrue(tls.output().contains("does not support SSL"), tls.output());
  }

  @Test
  void ldapsearchFindsTheEntryAfterStartTls() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("ca");
    SlapdServer ldap = fx.closing(SlapdServer.start(pki.server(ca, "slapd", "localhost", "127.0.0.1")));
    ExternalProcess search = ExternalProcess.run(null, CLIENT, "env", "LDAPTLS_CACERT=" + ca.certFile(),
        "LDAPTLS_REQCERT=demand", "ldapsearch", "-ZZ", "-x", "-o", "nettimeout=10",
        "-H", "ldap://127.0.0.1:" + ldap.port() + "/", "-b", SlapdServer.SUFFIX, "(cn=probe)", "dn");
    assertEquals(0, search.process().exitValue(), search.output());
    assertTrue(search.output().contains("dn: " + SlapdServer.ENTRY), search.output());
  }

  @Test
  void slapdWithoutCertificateRefusesStartTls() throws Exception {
    SlapdServer ldap = fx.closing(SlapdServer.start(null));
    ExternalProcess plain = ExternalProcess.run(null, CLIENT, "ldapsearch", "-x", "-o", "nettimeout=10",
        "-H", "ldap://127.0.0.1:" + ldap.port() + "/", "-b", SlapdServer.SUFFIX, "(cn=probe)", "dn");
    assertTrue(plain.output().contains("dn: " + SlapdServer.ENTRY), plain.output());
    ExternalProcess tls = ExternalProcess.run(null, CLIENT, "ldapsearch", "-ZZ", "-x", "-o", "nettimeout=10",
        "-H", "ldap://127.0.0.1:" + ldap.port() + "/", "-b", SlapdServer.SUFFIX, "(cn=probe)", "dn");
    assertNotEquals(0, tls.process().exitValue(), tls.output());
  }
}
