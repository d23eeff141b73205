package io.tlsproxy.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** Client-side helpers: plain and TLS sockets to 127.0.0.1 with bounded timeouts, transfers with digests. */
public final class Clients {

  public static final int TIMEOUT_MS = 20_000;

  private Clients() {
  }

  public static Socket plain(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
    s.setSoTimeout(TIMEOUT_MS);
    return s;
  }

  /**
   * A TLS socket after its handshake. {@code sni} may be null (no SNI sent); {@code protocols} and
   * {@code suites} may be null (the JDK defaults).
   */
  public static SSLSocket tls(SSLContext ctx, int port, String sni, String[] protocols, String[] suites)
      throws IOException {
    SSLSocket s = tlsBeforeHandshake(ctx, port, sni, protocols, suites);
    s.startHandshake();
    return s;
  }

  /**
   * Like {@link #tls(SSLContext, int, String, String[], String[])} but returns before the handshake, so that a
   * caller expecting a refusal still knows the socket's local port.
   */
  public static SSLSocket tlsBeforeHandshake(SSLContext ctx, int port, String sni, String[] protocols,
                                             String[] suites) throws IOException {
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
    s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
    s.setSoTimeout(TIMEOUT_MS);
    SSLParameters p = s.getSSLParameters();
    p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
    if (protocols != null) {
      p.setProtocols(protocols);
    }
    if (suites != null) {
      p.setCipherSuites(suites);
    }
    s.setSSLParameters(p);
    return s;
  }

  public static SSLSocket tls(SSLContext ctx, int port, String sni) throws IOException {
    return tls(ctx, port, sni, null, null);
  }

  /** Reads one line of text, up to a newline that is not included: a backend's greeting. */
  public static String readLine(Socket s) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = s.getInputStream().read()) >= 0 && b != '\n') {
      line.write(b);
    }
    return line.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Sends {@code request}, ends the write side, and returns everything read until the peer finishes. */
  public static byte[] requestReply(Socket s, byte[] request) throws IOException {
    s.getOutputStream().write(request);
    s.getOutputStream().flush();
    s.shutdownOutput();
    return readAll(s.getInputStream());
  }

  /**
   * Fails unless the peer ends the connection (FIN or reset) without sending a byte, before the read timeout.
   * A reset counts as a close: it is what a peer that closes with the request still unread sends.
   */
  public static void assertClosedWithoutReply(Socket s) throws IOException {
    int b;
    try {
      b = s.getInputStream().read();
    } catch (SocketTimeoutException e) {
      throw new AssertionError("connection still open after " + TIMEOUT_MS + " ms");
    } catch (SocketException e) {
      return;
    }
    if (b != -1) {
      throw new AssertionError("expected the connection to be closed, but a byte arrived");
    }
  }

  /**
   * Lets a JDK client with {@code ctx} start a handshake sending {@code sni} against a plain socket, and returns
   * the first TLS record it sent: a real ClientHello, for tests that replay or alter it.
   */
  public static byte[] recordClientHello(SSLContext ctx, String sni) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      server.setSoTimeout(TIMEOUT_MS);
      CompletableFuture<Void> handshake = CompletableFuture.runAsync(() -> {
        try (SSLSocket s = tls(ctx, server.getLocalPort(), sni)) {
          s.getInputStream().read();
        } catch (IOException expected) {
          // the recorder hangs up after the ClientHello
        }
      });
      try (Socket s = server.accept()) {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] header = new byte[5];
        in.readFully(header);
        if (header[0] != 0x16) {
          throw new AssertionError("expected a TLS handshake record, got content type " + header[0]);
        }
        byte[] body = new byte[((header[3] & 0xff) << 8) | (header[4] & 0xff)];
        in.readFully(body);
        byte[] record = Arrays.copyOf(header, header.length + body.length);
        System.arraycopy(body, 0, record, header.length, body.length);
        if (record.length <= 100) {
          throw new AssertionError("a ClientHello of only " + record.length + " bytes");
        }
        return record;
      } finally {
        handshake.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
      }
    }
  }

  public static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }

  /**
   * Reads and discards until the connection ends, by end of stream or by reset; returns how many bytes came
   * first. Bounded by the socket's read timeout and a thousand reads.
   */
  public static long discardUntilEnd(Socket s) throws IOException {
    byte[] buf = new byte[4096];
    long total = 0;
    try {
      int n;
      for (int i = 0; i < 1000 && (n = s.getInputStream().read(buf)) >= 0; i++) {
        total += n;
      }
    } catch (java.net.SocketException reset) {
      // ended by a reset: ended all the same
    }
    return total;
  }

  /** Writes {@code data} and reads exactly as many bytes back. */
  public static byte[] echo(Socket s, byte[] data) throws IOException {
    s.getOutputStream().write(data);
    s.getOutputStream().flush();
    return s.getInputStream().readNBytes(data.length);
  }

  /** The SHA-256 of the sent and of the received stream after pushing {@code size} bytes through an echo. */
  public record Transfer(String sentSha256, String receivedSha256, long received) {
  }

  /**
   * Pushes {@code size} pseudo-random bytes through {@code s} towards an echo server while reading the echo
   * concurrently; ends the write side when done and reads until the peer finishes.
   */
  public static Transfer pushThroughEcho(Socket s, long size) throws Exception {
    CompletableFuture<String> sent = CompletableFuture.supplyAsync(() -> {
      try {
        MessageDigest md = sha256();
        Random r = new Random(size);
        byte[] buf = new byte[64 * 1024];
        OutputStream out = s.getOutputStream();
        long left = size;
        while (left > 0) {
          int n = (int) Math.min(buf.length, left);
          r.nextBytes(buf);
          out.write(buf, 0, n);
          md.update(buf, 0, n);
          left -= n;
        }
        out.flush();
        s.shutdownOutput();
        return HexFormat.of().formatHex(md.digest());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
    MessageDigest md = sha256();
    InputStream in = s.getInputStream();
    byte[] buf = new byte[64 * 1024];
    long total = 0;
    int n;
    while ((n = in.read(buf)) > 0) {
      md.update(buf, 0, n);
      total += n;
    }
    return new Transfer(sent.get(120, TimeUnit.SECONDS), HexFormat.of().formatHex(md.digest()), total);
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
