package io.tlsproxy.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Real clients and servers on Unix sockets for tests: curl, socat, openssl and Python, each run as its own process
 * with a bounded wait, and socat bridging a Unix socket to a TCP backend. An address is written as in the
 * configuration without its prefix: a path, or {@code @name} for an abstract name.
 */
public final class UnixClients {

  private static final Duration WAIT = Duration.ofSeconds(20);
  /**
   * A client that connects over AF_UNIX (a leading @ is an abstract name), optionally speaks TLS, sends one GET and
   * reads until the end, or with a fourth argument "echo" only as many bytes as it sent (an echo server never ends).
   */
  private static final String PYTHON_CLIENT = """
      import socket, ssl, sys
      address, ca, name = sys.argv[1], sys.argv[2], sys.argv[3]
      echo = len(sys.argv) > 4 and sys.argv[4] == "echo"
      s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
      s.settimeout(15)
      s.connect("\\0" + address[1:] if address.startswith("@") else address)
      if ca != "-":
          s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname=name)
      request = b"GET / HTTP/1.0\\r\\nHost: " + name.encode() + b"\\r\\n\\r\\n"
      s.sendall(request)
      data = b""
      while not echo or len(data) < len(request):
          chunk = s.recv(65536)
          if not chunk:
              break
          data += chunk
      sys.stdout.write(data.decode())
      """;

  private UnixClients() {
  }

  /** {@code curl --unix-socket} (or {@code --abstract-unix-socket}); {@code ca} null for plain HTTP. */
  public static String curl(Path dir, String address, TestPki.Issued ca, String host) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "15"));
    cmd.addAll(address.startsWith("@") ? List.of("--abstract-unix-socket", address.substring(1))
        : List.of("--unix-socket", address));
    if (ca != null) {
      cmd.addAll(List.of("--cacert", ca.certFile().toString()));
    }
    cmd.add((ca != null ? "https://" : "http://") + host + "/");
    return run(dir, cmd, null);
  }

  /** Python's socket (and ssl) modules; {@code ca} null for plain. */
  public static String python(Path dir, String address, TestPki.Issued ca, String host) throws Exception {
    return python(dir, address, ca, host, false);
  }

  /** As {@link #python(Path, String, TestPki.Issued, String)}; with {@code echo} against an echo server. */
  public static String python(Path dir, String address, TestPki.Issued ca, String host, boolean echo)
      throws Exception {
    Path script = dir.resolve("unix_client.py");
    if (!Files.exists(script)) {
      Files.writeString(script, PYTHON_CLIENT);
    }
    return run(dir, List.of("python3", script.toString(), address, ca == null ? "-" : ca.certFile().toString(),
        host, echo ? "echo" : "all"), null);
  }

  /** {@code socat - UNIX-CONNECT:} (or {@code ABSTRACT-CONNECT:}) with a GET request on its standard input. */
  public static String socat(Path dir, String address, String host) throws Exception {
    return run(dir, List.of("socat", "-t", "10", "-T", "15", "-", connectAddress(address)), get(host));
  }

  /**
   * {@code openssl s_client -unix}: socat 1.7 speaks TLS over TCP only, so over a Unix socket the TLS client is
   * OpenSSL's (abstract names: not supported by s_client).
   */
  public static String opensslClient(Path dir, String path, TestPki.Issued ca, String host) throws Exception {
    return run(dir, List.of("openssl", "s_client", "-quiet", "-ign_eof", "-unix", path, "-servername", host,
        "-CAfile", ca.certFile().toString(), "-verify_return_error"), get(host));
  }

  /** socat's address of a Unix socket to connect to. */
  public static String connectAddress(String address) {
    return address.startsWith("@") ? "ABSTRACT-CONNECT:" + address.substring(1) : "UNIX-CONNECT:" + address;
  }

  /**
   * socat listening on a Unix socket (path or {@code @name}) and passing each connection on to 127.0.0.1:{@code
   * port}: a Unix socket backend in front of a TCP test backend. Returns once it listens.
   */
  public static ExternalProcess bridge(Path dir, String address, int port) throws Exception {
    String listen = address.startsWith("@") ? "ABSTRACT-LISTEN:" + address.substring(1) : "UNIX-LISTEN:" + address;
    ExternalProcess p = ExternalProcess.start(dir, List.of("socat", listen + ",fork", "TCP:127.0.0.1:" + port));
    try {
      Await.until("socat listening on " + address, WAIT, () -> listening(address));
    } catch (AssertionError e) {
      p.close();
      throw new AssertionError(e.getMessage() + "; socat said: " + p.output(), e);
    }
    return p;
  }

  /**
   * Whether a socket listens on {@code address}: the kernel's table of Unix sockets (/proc/net/unix) lists it,
   * abstract names with a leading @, in state 01 (listening, flag __SO_ACCEPTCON 00010000).
   */
  public static boolean listening(String address) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/net/unix"), StandardCharsets.UTF_8)) {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 8 && f[7].equals(address) && f[3].equals("00010000")) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      throw new AssertionError("cannot read /proc/net/unix", e);
    }
  }

  private static String get(String host) {
    return "GET / HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
  }

  private static String run(Path dir, List<String> cmd, String stdin) throws Exception {
    try (ExternalProcess p = ExternalProcess.start(dir, cmd)) {
      if (stdin != null) {
        p.stdin().write(stdin.getBytes(StandardCharsets.US_ASCII));
        p.stdin().flush();
      }
      p.stdin().close();
      int code = p.awaitExit(WAIT);
      if (code != 0) {
        throw new AssertionError(String.join(" ", cmd) + " exited with " + code + ":\n" + p.output());
      }
      return p.output();
    }
  }
}
