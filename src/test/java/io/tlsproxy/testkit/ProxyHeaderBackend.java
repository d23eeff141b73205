package io.tlsproxy.testkit;

import io.tlsproxy.proxyproto.DecodeResult;
import io.tlsproxy.proxyproto.ProxyHeaderDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A backend that expects a PROXY header before anything else, decodes it with the project's own decoder and
 * records what it found; then echoes, in plaintext or (with an SSL context) after a TLS handshake on the same
 * socket, which shows that the header came before the ClientHello.
 */
public final class ProxyHeaderBackend implements AutoCloseable {

  private final List<DecodeResult> results = new CopyOnWriteArrayList<>();
  private final TestServer server;

  private ProxyHeaderBackend(SSLContext tls) throws IOException {
    server = TestServer.plain((socket, srv) -> serve(socket, srv, tls));
  }

  public static ProxyHeaderBackend plain() throws IOException {
    return new ProxyHeaderBackend(null);
  }

  /** Reads the header in plaintext, then does a TLS handshake as server with {@code ctx} and echoes. */
  public static ProxyHeaderBackend tls(SSLContext ctx) throws IOException {
    return new ProxyHeaderBackend(ctx);
  }

  public int port() {
    return server.port();
  }

  /** Every connection's result so far, in arrival order. */
  public List<DecodeResult> results() {
    return List.copyOf(results);
  }

  /** Waits for a decoded header matching {@code match}; fails with everything received otherwise. */
  public DecodeResult.Decoded await(Predicate<DecodeResult.Decoded> match) {
    DecodeResult.Decoded[] found = new DecodeResult.Decoded[1];
    try {
      Await.until("a PROXY header matching the test's condition", Duration.ofSeconds(15), () -> {
        for (DecodeResult r : results) {
          if (r instanceof DecodeResult.Decoded d && match.test(d)) {
            found[0] = d;
            return true;
          }
        }
        return false;
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; received: " + results, e);
    }
    return found[0];
  }

  private void serve(Socket socket, TestServer srv, SSLContext tls) throws IOException {
    socket.setSoTimeout(Clients.TIMEOUT_MS);
    // The largest header the protocol allows: one may carry a client certificate.
    ProxyHeaderDecoder decoder = new ProxyHeaderDecoder(16 + 0xFFFF);
    InputStream in = socket.getInputStream();
    DecodeResult r = DecodeResult.NEED_MORE;
    // One byte at a time, so that not a byte after the header is taken from the stream.
    while (r == DecodeResult.NEED_MORE) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      r = decoder.decode(ByteBuffer.wrap(new byte[] {(byte) b}));
    }
    results.add(r);
    if (!(r instanceof DecodeResult.Decoded)) {
      return;
    }
    if (tls == null) {
      TestServer.echo(socket, srv);
      return;
    }
    SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(socket, null, socket.getPort(), false);
    ssl.setUseClientMode(false);
    ssl.startHandshake();
    TestServer.echo(ssl, srv);
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
