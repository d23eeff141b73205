package io.tlsproxy.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * A private Dovecot (Debian's {@code dovecot-imapd} and {@code dovecot-pop3d}) in the foreground, with IMAP and POP3
 * each on two loopback ports: on 127.0.0.1 with STARTTLS (the given certificate; plaintext login refused before
 * TLS), on 127.0.0.2 without TLS. One user, {@link #USER} with {@link #PASSWORD}, whose maildir holds one message
 * with subject {@link #SUBJECT}. Ready once every port greets; stopped by its process.
 */
public final class DovecotServer implements AutoCloseable {

  public static final String USER = "alice";
  public static final String PASSWORD = "secret-" + Long.toHexString(System.nanoTime());
  public static final String SUBJECT = "hello-from-dovecot";
  /** The address of the ports without TLS: all of 127/8 is loopback on Linux. */
  public static final String PLAIN_HOST = "127.0.0.2";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final ExternalProcess process;
  private final Path dir;
  private final int imapTls;
  private final int imapPlain;
  private final int pop3Tls;
  private final int pop3Plain;

  private DovecotServer(ExternalProcess process, Path dir, int[] ports) {
    this.process = process;
    this.dir = dir;
    this.imapTls = ports[0];
    this.imapPlain = ports[1];
    this.pop3Tls = ports[2];
    this.pop3Plain = ports[3];
  }

  public static boolean installed() {
    return Files.isExecutable(Path.of("/usr/sbin/dovecot"))
        && Files.exists(Path.of("/usr/lib/dovecot/imap")) && Files.exists(Path.of("/usr/lib/dovecot/pop3"));
  }

  /** Starts an instance in a new folder under {@code parent}, serving {@code cert} with STARTTLS. */
  public static DovecotServer start(Path parent, TestPki.Issued cert) throws Exception {
    Path dir = Files.createTempDirectory(parent, "dovecot-");
    for (Path p : List.of(parent, dir)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Path home = dir.resolve("mail/" + USER);
    Path newMail = Files.createDirectories(home.resolve("Maildir/new"));
    Files.createDirectories(home.resolve("Maildir/cur"));
    Files.createDirectories(home.resolve("Maildir/tmp"));
    Files.writeString(newMail.resolve("1.test"), "From: test@mail.test\r\nSubject: " + SUBJECT
        + "\r\n\r\nA message kept by Dovecot.\r\n");
    // Mail is read as the "mail" user: Dovecot refuses to give a mailbox to root.
    ExternalProcess.run(null, Duration.ofSeconds(10), "chown", "-R", "mail:mail", dir.resolve("mail").toString());
    String uid = ExternalProcess.run(null, Duration.ofSeconds(10), "id", "-u", "mail").output().trim();
    String gid = ExternalProcess.run(null, Duration.ofSeconds(10), "id", "-g", "mail").output().trim();
    Files.writeString(dir.resolve("passwd"), USER + ":{PLAIN}" + PASSWORD + ":" + uid + ":" + gid + "::" + home
        + "\n");
    int[] ports = {unused("127.0.0.1"), unused(PLAIN_HOST), unused("127.0.0.1"), unused(PLAIN_HOST)};
    Path conf = dir.resolve("dovecot.conf");
    Files.writeString(conf, """
        base_dir = %1$s/run
        state_dir = %1$s/state
        protocols = imap pop3
        listen = 127.0.0.1
        log_path = %1$s/dovecot.log
        ssl = yes
        ssl_cert = <%2$s
        ssl_key = <%3$s
        disable_plaintext_auth = yes
        auth_mechanisms = plain
        first_valid_uid = %4$s
        mail_location = maildir:~/Maildir
        passdb {
          driver = passwd-file
          args = %1$s/passwd
        }
        userdb {
          driver = passwd-file
          args = %1$s/passwd
        }
        service imap-login {
          inet_listener imap {
            address = 127.0.0.1
            port = %5$d
          }
          inet_listener imaps {
            port = 0
          }
          inet_listener imapplain {
            address = %9$s
            port = %6$d
          }
          chroot =
        }
        service pop3-login {
          inet_listener pop3 {
            address = 127.0.0.1
            port = %7$d
          }
          inet_listener pop3s {
            port = 0
          }
          inet_listener pop3plain {
            address = %9$s
            port = %8$d
          }
          chroot =
        }
        local %9$s {
          ssl = no
          disable_plaintext_auth = no
        }
        """.formatted(dir, cert.certFile(), cert.keyFile(), uid, ports[0], ports[1], ports[2], ports[3],
        PLAIN_HOST));
    ExternalProcess p = ExternalProcess.start(dir, List.of("dovecot", "-F", "-c", conf.toString()));
    DovecotServer server = new DovecotServer(p, dir, ports);
    try {
      Await.until("dovecot greets on its ports", START_TIMEOUT, () -> greets("127.0.0.1", ports[0])
          && greets(PLAIN_HOST, ports[1]) && greets("127.0.0.1", ports[2]) && greets(PLAIN_HOST, ports[3]));
    } catch (AssertionError e) {
      String log = server.log();
      server.close();
      throw new AssertionError(e.getMessage() + "\ndovecot: " + p.output() + "\nlog:\n" + log, e);
    }
    return server;
  }

  private static int unused(String host) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return s.getLocalPort();
    }
  }

  private static boolean greets(String host, int port) {
    try (Socket s = new Socket(host, port)) {
      s.setSoTimeout(5000);
      String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
          .readLine();
      return line != null && (line.startsWith("* OK") || line.startsWith("+OK"));
    } catch (IOException e) {
      return false;
    }
  }

  /** IMAP with STARTTLS, on 127.0.0.1. */
  public int imapTlsPort() {
    return imapTls;
  }

  /** IMAP without TLS, on {@link #PLAIN_HOST}. */
  public int imapPlainPort() {
    return imapPlain;
  }

  /** POP3 with STLS, on 127.0.0.1. */
  public int pop3TlsPort() {
    return pop3Tls;
  }

  /** POP3 without TLS, on {@link #PLAIN_HOST}. */
  public int pop3PlainPort() {
    return pop3Plain;
  }

  /** Dovecot's log so far. */
  public String log() {
    try {
      Path log = dir.resolve("dovecot.log");
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  @Override
  public void close() throws Exception {
    process.close();
  }
}
