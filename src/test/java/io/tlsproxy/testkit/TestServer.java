package io.tlsproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A backend for tests on 127.0.0.1 and an ephemeral port, plain or TLS, one thread per connection. It counts
 * connections whose handshake completed and application bytes received, so that a test can assert that
 * nothing reached it.
 */
public final class TestServer implements AutoCloseable {

  /** What the server does with one accepted connection. */
  public interface Behaviour {
    void serve(Socket socket, TestServer server) throws IOException;
  }

  private final ServerSocket listener;
  private final Behaviour behaviour;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "test-server");
    t.setDaemon(true);
    return t;
  });
  private final AtomicInteger served = new AtomicInteger();
  private final AtomicLong bytesReceived = new AtomicLong();
  private final Queue<Socket> open = new ConcurrentLinkedQueue<>();
  private final Queue<String> peerSubjects = new ConcurrentLinkedQueue<>();

  private TestServer(ServerSocket listener, Behaviour behaviour) {
    this.listener = listener;
    this.behaviour = behaviour;
    threads.execute(this::acceptLoop);
  }

  public static TestServer plain(Behaviour behaviour) throws IOException {
    return new TestServer(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), behaviour);
  }

  /**
   * A plain server on a given address and port: to restart a backend on the port it had, or to put one on
   * 127.0.0.2 (all of 127/8 is loopback on Linux) behind a host name whose address changes.
   */
  public static TestServer plainOn(InetAddress address, int port, Behaviour behaviour) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new java.net.InetSocketAddress(address, port), 50);
    return new TestServer(s, behaviour);
  }

  /** Writes {@code name} and a newline to each client first, then echoes: the client learns who served it. */
  public static Behaviour greeting(String name) {
    return (s, server) -> {
      s.getOutputStream().write((name + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      echo(s, server);
    };
  }

  /**
   * Answers one HTTP/1.x request with {@code 200} and {@code body}, then closes: a backend for clients that speak
   * HTTP, such as curl. The request is read up to its blank line (bounded by the socket's timeout).
   */
  public static Behaviour http(String body) {
    return (s, server) -> {
      s.setSoTimeout(Clients.TIMEOUT_MS);
      java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
          java.nio.charset.StandardCharsets.US_ASCII));
      String line;
      int lines = 0;
      while ((line = in.readLine()) != null && !line.isEmpty() && ++lines < 100) {
        server.received(line.length() + 2);
      }
      byte[] b = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + b.length
          + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      s.getOutputStream().write(b);
      s.getOutputStream().flush();
    };
  }

  /** Connections accepted and not yet closed. */
  public int openConnections() {
    return open.size();
  }

  /** A TLS server; with {@code needClientAuth} it requires a client certificate. */
  public static TestServer tls(SSLContext ctx, boolean needClientAuth, Behaviour behaviour) throws IOException {
    SSLServerSocket s = (SSLServerSocket) ctx.getServerSocketFactory()
        .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    s.setNeedClientAuth(needClientAuth);
    return new TestServer(s, behaviour);
  }

  public static TestServer echo() throws IOException {
    return plain(TestServer::echo);
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** Connections that completed their handshake (plain ones: all). */
  public int served() {
    return served.get();
  }

  public long bytesReceived() {
    return bytesReceived.get();
  }

  public Queue<String> peerSubjects() {
    return peerSubjects;
  }

  /** Echoes every byte back until the peer finishes, then finishes too. */
  public static void echo(Socket s, TestServer server) throws IOException {
    InputStream in = s.getInputStream();
    OutputStream out = s.getOutputStream();
    byte[] buf = new byte[64 * 1024];
    int n;
    while ((n = in.read(buf)) > 0) {
      server.bytesReceived.addAndGet(n);
      out.write(buf, 0, n);
    }
    out.flush();
  }

  /** Counts what arrives; a behaviour that only consumes can call this. */
  public void received(long n) {
    bytesReceived.addAndGet(n);
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      Socket s;
      try {
        s = listener.accept();
      } catch (IOException e) {
        return;
      }
      open.add(s);
      threads.execute(() -> {
        try (s) {
          if (s instanceof SSLSocket ssl) {
            ssl.startHandshake();
            try {
              peerSubjects.add(((java.security.cert.X509Certificate) ssl.getSession().getPeerCertificates()[0])
                  .getSubjectX500Principal().getName());
            } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
              // no client certificate
            }
          }
          served.incrementAndGet();
          behaviour.serve(s, this);
        } catch (IOException e) {
          // The peer went away or the handshake failed: that connection only.
        } finally {
          open.remove(s);
        }
      });
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket s : open) {
      s.close();
    }
    threads.shutdownNow();
  }
}
