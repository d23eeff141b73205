package io.tlsproxy.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * A private Postfix instance (Debian's {@code postfix}) on two loopback ports: one offering STARTTLS with the given
 * certificate, one without TLS. Mail it accepts is put on hold, so that it stays in its queue for the test to find.
 * Started with its own configuration directory in a temporary folder (it must run as root, and drops to the
 * {@code postfix} user), ready once both ports greet, and stopped by the PID of its master process.
 */
public final class PostfixServer implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path dir;
  private final int tlsPort;
  private final int plainPort;

  private PostfixServer(Path dir, int tlsPort, int plainPort) {
    this.dir = dir;
    this.tlsPort = tlsPort;
    this.plainPort = plainPort;
  }

  /** Whether Postfix is installed here. */
  public static boolean installed() {
    return Files.isExecutable(Path.of("/usr/sbin/postfix"));
  }

  /** Starts an instance in a new folder under {@code parent}, serving {@code cert} on its STARTTLS port. */
  public static PostfixServer start(Path parent, TestPki.Issued cert) throws Exception {
    Path dir = Files.createTempDirectory(parent, "postfix-");
    Path conf = Files.createDirectories(dir.resolve("conf"));
    Files.createDirectories(dir.resolve("queue"));
    Path data = Files.createDirectories(dir.resolve("data"));
    // The postfix user walks to its queue and data folders; temporary folders are private by default.
    for (Path p : List.of(parent, dir)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    ExternalProcess.run(null, Duration.ofSeconds(10), "chown", "postfix", data.toString());
    int tlsPort = Ports.unused();
    int plainPort = Ports.unused();
    Files.writeString(conf.resolve("main.cf"), """
        compatibility_level = 3.6
        queue_directory = %1$s/queue
        data_directory = %1$s/data
        command_directory = /usr/sbin
        daemon_directory = /usr/lib/postfix/sbin
        mail_owner = postfix
        setgid_group = postdrop
        myhostname = mail.test
        mydestination = mail.test
        inet_interfaces = 127.0.0.1
        inet_protocols = ipv4
        mynetworks = 127.0.0.0/8
        maillog_file_prefixes = %1$s
        maillog_file = %1$s/maillog
        alias_maps =
        alias_database =
        smtpd_tls_cert_file = %2$s
        smtpd_tls_key_file = %3$s
        smtpd_tls_security_level = may
        smtpd_tls_loglevel = 1
        smtpd_client_restrictions = check_client_access static:HOLD
        """.formatted(dir, cert.certFile(), cert.keyFile()));
    StringBuilder master = new StringBuilder();
    master.append("127.0.0.1:%d inet n - n - - smtpd\n".formatted(tlsPort));
    master.append("127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_security_level=none\n".formatted(plainPort));
    // Debian's services, but none in a chroot: this instance has no copy of /etc in its queue folder.
    for (String line : Files.readAllLines(Path.of("/etc/postfix/master.cf"))) {
      String[] f = line.trim().split("\\s+");
      if (line.startsWith("#") || line.isBlank() || Character.isWhitespace(line.charAt(0))) {
        master.append(line).append('\n');
      } else if (f.length >= 8 && !f[1].equals("inet")) {
        f[4] = "n";
        master.append(String.join(" ", f)).append('\n');
      } else if (!f[1].equals("inet")) {
        master.append(line).append('\n');
      }
    }
    Files.writeString(conf.resolve("master.cf"), master);
    PostfixServer server = new PostfixServer(dir, tlsPort, plainPort);
    ExternalProcess started = ExternalProcess.run(dir, START_TIMEOUT, "postfix", "-c", conf.toString(), "start");
    try {
      Await.until("postfix greets on both ports", START_TIMEOUT,
          () -> greets(tlsPort) && greets(plainPort));
    } catch (AssertionError e) {
      String log = Files.exists(dir.resolve("maillog")) ? Files.readString(dir.resolve("maillog")) : "";
      server.close();
      throw new AssertionError(e.getMessage() + "\npostfix start: " + started.output() + "\nmaillog:\n" + log, e);
    }
    return server;
  }

  private static boolean greets(int port) {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(5000);
      String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
          .readLine();
      s.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
      return line != null && line.startsWith("220 ");
    } catch (IOException e) {
      return false;
    }
  }

  /** The port that offers STARTTLS. */
  public int tlsPort() {
    return tlsPort;
  }

  /** The port without TLS: it offers no STARTTLS. */
  public int plainPort() {
    return plainPort;
  }

  /** Whether a message held in the queue contains {@code text} (a subject line, say). */
  public boolean holds(String text) {
    Path hold = dir.resolve("queue/hold");
    if (!Files.isDirectory(hold)) {
      return false;
    }
    try (Stream<Path> files = Files.list(hold)) {
      for (Path f : files.toList()) {
        if (new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(text)) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Postfix's log so far, for a failure message. */
  public String log() throws IOException {
    Path log = dir.resolve("maillog");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** Stops the master process by its PID; its children follow it. */
  @Override
  public void close() throws Exception {
    Path pidFile = dir.resolve("queue/pid/master.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    long pid = Long.parseLong(Files.readString(pidFile).trim());
    ProcessHandle.of(pid).ifPresent(p -> {
      p.destroy();
      p.onExit().orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).exceptionally(t -> null).join();
    });
    Await.until("postfix stops listening", Duration.ofSeconds(20), () -> !greets(tlsPort) && !greets(plainPort));
  }
}
