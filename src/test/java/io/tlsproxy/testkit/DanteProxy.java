package io.tlsproxy.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Debian's dante-server ({@code danted}) as a SOCKS5 proxy on 127.0.0.1 and a free port, from a configuration
 * written per test: without authentication, or with RFC 1929 username/password, which danted checks against the
 * system's users (see {@link SystemUser}); tunnels to some ports are blocked by a rule. It runs in the foreground,
 * logs every tunnel it opened to its output ({@link #output()}), is waited for by polling its port, and is stopped
 * through its own process handle (its PID) on {@link #close()}.
 */
public final class DanteProxy implements AutoCloseable {

  private static final Duration START = Duration.ofSeconds(30);

  private final ExternalProcess process;
  private final int port;

  private DanteProxy(ExternalProcess process, int port) {
    this.process = process;
    this.port = port;
  }

  /**
   * Starts danted with its files in {@code parent/name}; {@code usernameAuth} asks every client for a system
   * user's name and password. Connections to any of {@code blockedPorts} are refused with reply 2 ("not allowed
   * by ruleset", RFC 1928 section 6).
   */
  public static DanteProxy start(Path parent, String name, boolean usernameAuth, int... blockedPorts)
      throws Exception {
    Path dir = DaemonDir.create(parent, name);
    int port = Ports.unused();
    StringBuilder conf = new StringBuilder("""
        logoutput: stderr
        internal: 127.0.0.1 port = %d
        external: 127.0.0.1
        clientmethod: none
        socksmethod: %s
        user.privileged: root
        user.unprivileged: nobody
        client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
        """.formatted(port, usernameAuth ? "username" : "none"));
    for (int p : blockedPorts) {
      conf.append("socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 port = ").append(p).append(" log: error }\n");
    }
    conf.append("socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect }\n");
    Path cfg = DaemonDir.write(dir, "danted.conf", conf.toString());
    return new DanteProxy(ExternalProcess.startListening(dir, List.of("danted", "-f", cfg.toString(), "-p",
        dir.resolve("danted.pid").toString()), "danted", port, START), port);
  }

  public int port() {
    return port;
  }

  /** {@code 127.0.0.1:port}, for {@code upstream.via.address}. */
  public String address() {
    return "127.0.0.1:" + port;
  }

  /** danted's log: a {@code pass(...): tcp/connect} line names the target of every tunnel it opened. */
  public String output() {
    return process.output();
  }

  @Override
  public void close() throws InterruptedException {
    process.close();
  }
}
