package io.tlsproxy.testkit;

import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real OpenLDAP server ({@code slapd}) from the distribution's packages on 127.0.0.1 and an ephemeral port: an mdb
 * database for {@link #SUFFIX} holding the suffix entry and {@link #ENTRY}, loaded with {@code slapadd}, readable
 * anonymously. With a certificate it offers StartTLS with it; without, it answers a StartTLS request with an error.
 * Run in the foreground ({@code -d 0}), stopped by its own process handle, its folder deleted.
 */
public final class SlapdServer implements AutoCloseable {

  public static final String SUFFIX = "dc=example,dc=test";
  /** The one entry below the suffix, found by a search for {@code (cn=probe)}. */
  public static final String ENTRY = "cn=probe," + SUFFIX;

  private static final Duration START = Duration.ofSeconds(30);

  private final Path dir;
  private final int port;
  private final ExternalProcess process;

  private SlapdServer(Path dir, int port, ExternalProcess process) {
    this.dir = dir;
    this.port = port;
    this.process = process;
  }

  /** Starts slapd offering StartTLS with {@code cert}, or no TLS when it is null, and waits until it accepts. */
  public static SlapdServer start(TestPki.Issued cert) throws Exception {
    DaemonUser user = DaemonUser.forDaemon("openldap");
    Path dir = user.tempDir("slapd-");
    ExternalProcess server = null;
    try {
      Path db = user.mkdir(dir.resolve("db"));
      StringBuilder conf = new StringBuilder()
          .append("include /etc/ldap/schema/core.schema\n")
          .append("pidfile ").append(dir.resolve("slapd.pid")).append('\n')
          .append("argsfile ").append(dir.resolve("slapd.args")).append('\n')
          .append("modulepath /usr/lib/ldap\n")
          .append("moduleload back_mdb\n");
      if (cert != null) {
        user.copyPrivate(cert.certFile(), dir.resolve("server.crt"));
        // GnuTLS, which Debian's slapd uses, cannot read the JDK's PKCS#8 encoding of an EC key ("ASN1 parser:
        // Element was not found"): openssl rewrites it in the SEC1 form, with the curve and public key inside.
        Path key = dir.resolve("server.key");
        ExternalProcess ec = ExternalProcess.run(dir, START, "openssl", "ec", "-in", cert.keyFile().toString(),
            "-out", key.toString());
        if (ec.process().exitValue() != 0) {
          throw new IllegalStateException("openssl ec failed:\n" + ec.output());
        }
        user.makePrivate(key);
        conf.append("TLSCertificateFile ").append(dir.resolve("server.crt")).append('\n')
            .append("TLSCertificateKeyFile ").append(dir.resolve("server.key")).append('\n');
      }
      conf.append("database mdb\n")
          .append("maxsize 16777216\n")
          .append("suffix \"").append(SUFFIX).append("\"\n")
          .append("rootdn \"cn=admin,").append(SUFFIX).append("\"\n")
          .append("directory ").append(db).append('\n')
          .append("access to * by * read\n");
      Path confFile = dir.resolve("slapd.conf");
      user.write(confFile, conf.toString());
      Path ldif = dir.resolve("entries.ldif");
      user.write(ldif, """
          dn: %s
          objectClass: dcObject
          objectClass: organization
          o: Example
          dc: example

          dn: %s
          objectClass: person
          cn: probe
          sn: Probe
          """.formatted(SUFFIX, ENTRY));
      ExternalProcess slapadd = ExternalProcess.start(dir, user.command(List.of(
          "slapadd", "-f", confFile.toString(), "-l", ldif.toString())));
      slapadd.stdin().close();
      if (slapadd.awaitExit(START) != 0) {
        throw new IllegalStateException("slapadd failed:\n" + slapadd.output());
      }
      int port = Ports.unused();
      server = ExternalProcess.start(dir, user.command(List.of(
          "slapd", "-d", "0", "-h", "ldap://127.0.0.1:" + port + "/", "-f", confFile.toString())));
      ExternalProcess started = server;
      Await.until("slapd accepting on port " + port + "; output:\n" + server.output(), START,
          () -> accepts(port, started));
      return new SlapdServer(dir, port, server);
    } catch (Exception | AssertionError e) {
      if (server != null) {
        server.close();
      }
      ProxyFixture.deleteTree(dir);
      throw e;
    }
  }

  private static boolean accepts(int port, ExternalProcess server) {
    if (!server.process().isAlive()) {
      throw new AssertionError("slapd exited with " + server.process().exitValue() + ":\n" + server.output());
    }
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  public int port() {
    return port;
  }

  /** What slapd has written so far. */
  public String log() {
    return process.output();
  }

  @Override
  public void close() throws Exception {
    process.close();
    ProxyFixture.deleteTree(dir);
  }
}
