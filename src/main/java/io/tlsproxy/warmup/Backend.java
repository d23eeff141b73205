package io.tlsproxy.warmup;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.charset.StandardCharsets;

/**
 * The throwaway upstream of the warm-up listeners: on loopback, TLS with the warm-up server certificate where the
 * mirrored upstream is TLS, answering the first bytes of each connection with one small HTTP response.
 */
final class Backend {

  /** What a warm-up client sends: one small HTTP/1.1 request, as most clients of a proxy do first. */
  static final Buffer REQUEST = Buffer.buffer("GET /warmup HTTP/1.1\r\nHost: " + ThrowawayPki.SERVER_NAME
      + "\r\n\r\n", StandardCharsets.US_ASCII.name());
  /** The reply: headers and a 1 KiB body, the size the cold-start benchmark fetches. */
  static final Buffer REPLY = reply(1024);

  private final NetServer server;

  private Backend(NetServer server) {
    this.server = server;
  }

  /** Listens on {@code host}, port 0; {@code pki} non-null means TLS with its server certificate. */
  static Future<Backend> start(Vertx vertx, String host, ThrowawayPki pki) {
    NetServerOptions options = new NetServerOptions().setHost(host).setPort(0).setIdleTimeout(10);
    if (pki != null) {
      options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertValue(Buffer.buffer(pki.server().cert())).setKeyValue(Buffer.buffer(pki.server().key())));
      if (OpenSSLEngineOptions.isAvailable()) {
        // The cheaper engine for the throwaway side: the CPU the warm-up has is better spent on the proxy's side.
        options.setSslEngineOptions(new OpenSSLEngineOptions());
      }
    }
    NetServer server = vertx.createNetServer(options);
    server.connectHandler(Backend::serve);
    return server.listen().map(Backend::new);
  }

  int port() {
    return server.actualPort();
  }

  Future<Void> close() {
    return server.close();
  }

  private static void serve(NetSocket socket) {
    socket.handler(new io.vertx.core.Handler<>() {
      private boolean answered;

      @Override
      public void handle(Buffer data) {
        if (!answered) {
          answered = true;
          socket.write(REPLY.copy()); // a written buffer is consumed: each connection writes its own copy
        }
      }
    });
  }

  private static Buffer reply(int bodyBytes) {
    Buffer b = Buffer.buffer("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
        + bodyBytes + "\r\n\r\n", StandardCharsets.US_ASCII.name());
    for (int i = 0; i < bodyBytes; i++) {
      b.appendByte((byte) 'w');
    }
    return b;
  }
}
