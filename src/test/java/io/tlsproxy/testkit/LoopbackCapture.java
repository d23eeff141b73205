package io.tlsproxy.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A packet capture of one TCP port on the loopback interface by {@code tcpdump}, and what {@code tshark} can read
 * in it. Capturing needs root or the capture capabilities; {@link #available()} tells whether both tools are
 * installed.
 */
public final class LoopbackCapture implements AutoCloseable {

  private static final Duration START = Duration.ofSeconds(20);
  private static final Duration READ = Duration.ofSeconds(60);

  private final Path file;
  private final ExternalProcess tcpdump;

  private LoopbackCapture(Path file, ExternalProcess tcpdump) {
    this.file = file;
    this.tcpdump = tcpdump;
  }

  /** Whether {@code tcpdump} and {@code tshark} are on the PATH (or in /usr/sbin). */
  public static boolean available() {
    return ExternalProcess.onPath("tcpdump") && ExternalProcess.onPath("tshark");
  }

  /**
   * Starts capturing TCP port {@code port} on {@code lo} into a file in {@code dir}; returns once tcpdump says it
   * is listening, so that no packet sent after this returns is missed.
   */
  public static LoopbackCapture start(Path dir, int port) throws Exception {
    Path file = dir.resolve("capture-" + port + "-" + System.nanoTime() + ".pcap");
    // Immediate mode hands each packet to tcpdump as it comes (not in blocks that a stop would leave unread), and
    // -U writes it to the file at once: what was sent before stop() is in the file after it.
    ExternalProcess p = ExternalProcess.start(dir, List.of("tcpdump", "-i", "lo", "-n", "--immediate-mode", "-U",
        "-s", "0", "-w",
        file.toString(), "tcp", "port", String.valueOf(port)));
    try {
      p.awaitOutput("listening on", START);
    } catch (AssertionError e) {
      p.close();
      throw e;
    }
    return new LoopbackCapture(file, p);
  }

  /** Stops tcpdump (by its own process, SIGTERM, bounded) and returns the capture file. */
  public Path stop() throws Exception {
    tcpdump.close();
    return file;
  }

  /**
   * The application data tshark finds in {@code capture} on TCP port {@code port} read as TLS, one line per
   * record in hex, decrypted with {@code keyLog} (null: none): with the right key log it is the plaintext, without
   * it there is none.
   */
  public static String tlsPlaintext(Path capture, int port, Path keyLog) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("tshark", "-n", "-r", capture.toString(),
        "-o", "tls.keylog_file:" + (keyLog == null ? "" : keyLog.toString()),
        "-d", "tcp.port==" + port + ",tls", "-d", "tls.port==" + port + ",http",
        "-Y", "http.request", "-T", "fields", "-e", "http.request.method", "-e", "http.request.uri"));
    ExternalProcess p = ExternalProcess.run(capture.getParent(), READ, cmd.toArray(String[]::new));
    if (p.process().exitValue() != 0) {
      throw new AssertionError("tshark failed: " + p.output());
    }
    return p.output();
  }

  @Override
  public void close() throws Exception {
    tcpdump.close();
  }
}
