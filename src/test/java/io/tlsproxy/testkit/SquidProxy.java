package io.tlsproxy.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Debian's squid as an HTTP CONNECT proxy on 127.0.0.1 and a free port, from a configuration written per test:
 * optionally requiring basic authentication (squid's {@code basic_ncsa_auth} over an htpasswd file whose hash
 * {@code openssl passwd -apr1} makes) and refusing tunnels to some ports. It runs in the foreground
 * ({@code squid -N}, its log on stderr), is waited for by polling its port, logs every CONNECT it served (see
 * {@link #logged}), and is stopped through its own process handle (its PID) on {@link #close()}.
 */
public final class SquidProxy implements AutoCloseable {

  private static final Duration START = Duration.ofSeconds(30);

  private final ExternalProcess process;
  private final int port;
  private final Path accessLog;

  private SquidProxy(ExternalProcess process, int port, Path accessLog) {
    this.process = process;
    this.port = port;
    this.accessLog = accessLog;
  }

  /**
   * Starts squid with its files in {@code parent/name}. {@code user} and {@code password} null: no
   * authentication; otherwise only that user is let through. CONNECT to any of {@code deniedPorts} gets 403.
   */
  public static SquidProxy start(Path parent, String name, String user, String password, int... deniedPorts)
      throws Exception {
    Path dir = DaemonDir.create(parent, name);
    int port = Ports.unused();
    Path accessLog = dir.resolve("access.log");
    StringBuilder conf = new StringBuilder("""
        http_port 127.0.0.1:%d
        pid_filename none
        cache_log /dev/null
        access_log stdio:%s
        cache deny all
        pinger_enable off
        shutdown_lifetime 0 seconds
        """.formatted(port, accessLog));
    for (int p : deniedPorts) {
      conf.append("acl denied_port port ").append(p).append('\n');
    }
    if (deniedPorts.length > 0) {
      conf.append("http_access deny denied_port\n");
    }
    if (user != null) {
      String hash = ExternalProcess.run(dir, Duration.ofSeconds(20), "openssl", "passwd", "-apr1", password)
          .output().trim();
      Path htpasswd = DaemonDir.write(dir, "htpasswd", user + ":" + hash + "\n");
      conf.append("auth_param basic program /usr/lib/squid/basic_ncsa_auth ").append(htpasswd).append('\n')
          .append("auth_param basic children 1\n")
          .append("acl authenticated proxy_auth REQUIRED\n")
          .append("http_access allow authenticated\n");
    } else {
      conf.append("http_access allow localhost\n");
    }
    conf.append("http_access deny all\n");
    // The access log is opened by squid's own user once it has dropped root.
    DaemonDir.write(dir, "access.log", "");
    Files.setPosixFilePermissions(accessLog, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
    Path cfg = DaemonDir.write(dir, "squid.conf", conf.toString());
    return new SquidProxy(ExternalProcess.startListening(dir, List.of("squid", "-N", "-d", "1", "-f",
        cfg.toString()), "squid", port, START), port, accessLog);
  }

  public int port() {
    return port;
  }

  /** {@code 127.0.0.1:port}, for {@code upstream.via.address}. */
  public String address() {
    return "127.0.0.1:" + port;
  }

  /**
   * Whether squid's access log has a line containing {@code text}, e.g. {@code CONNECT host:port}; squid writes
   * one line per request, once it ends.
   */
  public boolean logged(String text) {
    try {
      return Files.readString(accessLog).contains(text);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  public String output() {
    return process.output();
  }

  @Override
  public void close() throws InterruptedException {
    process.close();
  }
}
