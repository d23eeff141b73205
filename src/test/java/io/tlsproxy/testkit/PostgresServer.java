package io.tlsproxy.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server from the distribution's packages, made by {@code initdb} in a folder of its own and run
 * in the foreground on 127.0.0.1 and an ephemeral port, with trust authentication for the user {@code postgres}.
 * With a certificate it has {@code ssl = on} (it answers a client's SSLRequest with 'S'); without, {@code ssl = off}
 * (it answers 'N'). Stopped by its own process handle with a fast shutdown; its folder deleted.
 */
public final class PostgresServer implements AutoCloseable {

  private static final Duration START = Duration.ofSeconds(60);

  private final Path dir;
  private final int port;
  private final ExternalProcess process;

  private PostgresServer(Path dir, int port, ExternalProcess process) {
    this.dir = dir;
    this.port = port;
    this.process = process;
  }

  /** The folder holding the server's binaries (initdb, postgres, psql), the newest installed version. */
  public static Path binaries() {
    Path root = Path.of("/usr/lib/postgresql");
    try (Stream<Path> versions = Files.list(root)) {
      return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
          .max(Comparator.comparing(b -> versionOf(b.getParent()))).orElseThrow(() -> new IllegalStateException(
              "no PostgreSQL server under " + root + ": install the postgresql package"));
    } catch (IOException e) {
      throw new IllegalStateException("no PostgreSQL server under " + root + ": install the postgresql package", e);
    }
  }

  private static int versionOf(Path versionDir) {
    try {
      return Integer.parseInt(versionDir.getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Starts a server with {@code ssl = on} presenting {@code cert}, or {@code ssl = off} when {@code cert} is null,
   * and waits (bounded) until it accepts connections.
   */
  public static PostgresServer start(TestPki.Issued cert) throws Exception {
    DaemonUser user = DaemonUser.forDaemon("postgres");
    Path dir = user.tempDir("pg-");
    ExternalProcess server = null;
    try {
      Path bin = binaries();
      Path data = dir.resolve("data");
      Path sockets = user.mkdir(dir.resolve("sockets"));
      ExternalProcess initdb = ExternalProcess.start(dir, user.command(List.of(bin.resolve("initdb").toString(),
          "-D", data.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")));
      initdb.stdin().close();
      if (initdb.awaitExit(START) != 0) {
        throw new IllegalStateException("initdb failed:\n" + initdb.output());
      }
      List<String> conf = new ArrayList<>(List.of(
          "fsync = off", "shared_buffers = 16MB", "max_connections = 20", "log_min_messages = warning"));
      if (cert != null) {
        user.copyPrivate(cert.certFile(), data.resolve("server.crt"));
        user.copyPrivate(cert.keyFile(), data.resolve("server.key"));
        conf.addAll(List.of("ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"));
      } else {
        conf.add("ssl = off");
      }
      Files.writeString(data.resolve("postgresql.conf"), "\n" + String.join("\n", conf) + "\n",
          java.nio.file.StandardOpenOption.APPEND);
      int port = Ports.unused();
      server = ExternalProcess.start(dir, user.command(List.of(bin.resolve("postgres").toString(),
          "-D", data.toString(), "-k", sockets.toString(), "-p", Integer.toString(port), "-h", "127.0.0.1")));
      server.awaitOutput("ready to accept connections", START);
      return new PostgresServer(dir, port, server);
    } catch (Exception | AssertionError e) {
      if (server != null) {
        server.close();
      }
      ProxyFixture.deleteTree(dir);
      throw e;
    }
  }

  public int port() {
    return port;
  }

  /** What the server has written to its log so far. */
  public String log() {
    return process.output();
  }

  @Override
  public void close() throws Exception {
    Process p = process.process();
    if (p.isAlive()) {
      // SIGINT is PostgreSQL's fast shutdown: it ends open sessions instead of waiting for them (SIGTERM would).
      ExternalProcess.run(null, Duration.ofSeconds(10), "kill", "-INT", Long.toString(p.pid()));
      process.awaitExit(Duration.ofSeconds(30));
    }
    process.close();
    ProxyFixture.deleteTree(dir);
  }
}
