package io.tlsproxy.testkit;

import java.io.EOFException;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * One TLS connection from 127.0.0.1 that the server may refuse. It keeps the socket either way, so that a test
 * can find the connection's log line by its local port, and the failure when there was one.
 */
public final class TlsAttempt implements AutoCloseable {

  private final SSLSocket socket;
  private final IOException failure;

  private TlsAttempt(SSLSocket socket, IOException failure) {
    this.socket = socket;
    this.failure = failure;
  }

  /** A handshake only; {@code sni}, {@code protocols} and {@code suites} as in {@link Clients#tls}. */
  public static TlsAttempt handshake(SSLContext ctx, int port, String sni, String[] protocols, String[] suites)
      throws IOException {
    SSLSocket s = Clients.tlsBeforeHandshake(ctx, port, sni, protocols, suites);
    try {
      s.startHandshake();
      return new TlsAttempt(s, null);
    } catch (IOException e) {
      return new TlsAttempt(s, e);
    }
  }

  public static TlsAttempt handshake(SSLContext ctx, int port, String sni) throws IOException {
    return handshake(ctx, port, sni, null, null);
  }

  /**
   * A handshake and then {@code message} sent to an echo backend and read back. In TLS 1.3 a server checks the
   * client's certificate after the client has finished its handshake (RFC 8446 section 4.4), so a refused
   * client certificate only shows on the first read.
   */
  public static TlsAttempt echo(SSLContext ctx, int port, String sni, byte[] message) throws IOException {
    TlsAttempt a = handshake(ctx, port, sni);
    if (!a.succeeded()) {
      return a;
    }
    try {
      byte[] back = Clients.echo(a.socket, message);
      if (!Arrays.equals(message, back)) {
        return new TlsAttempt(a.socket, new EOFException("connection ended after " + back.length + " of "
            + message.length + " echoed bytes"));
      }
      return a;
    } catch (IOException e) {
      return new TlsAttempt(a.socket, e);
    }
  }

  public boolean succeeded() {
    return failure == null;
  }

  /** Why the attempt failed; null when it succeeded. */
  public IOException failure() {
    return failure;
  }

  public SSLSocket socket() {
    return socket;
  }

  public SSLSession session() {
    return socket.getSession();
  }

  /** The certificate the server presented. */
  public X509Certificate serverCertificate() throws IOException {
    return (X509Certificate) session().getPeerCertificates()[0];
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  @Override
  public String toString() {
    return succeeded() ? "succeeded " + session().getProtocol() + "/" + session().getCipherSuite()
        : "failed: " + failure;
  }
}
