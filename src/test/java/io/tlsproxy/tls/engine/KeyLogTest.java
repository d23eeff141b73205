package io.tlsproxy.tls.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.TestPki;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key log on the OpenSSL engine: lines appear for a handshake, the file is the owner's, the JDK is refused. */
class KeyLogTest {

  @TempDir
  Path dir;

  @Test
  void handshakeOnAnOpensslContextWritesItsTls13SecretsToAPrivateFile() throws Exception {
    TestPki pki = new TestPki(dir);
    TestPki.Issued ca = pki.ca("ca");
    TestPki.Issued server = pki.server(ca, "server.test", "server.test");
    Path file = dir.resolve("keys.log");
    KeyLog log = new KeyLog(file);
    SslContext openssl = SslContextBuilder.forServer(server.key(), server.chain().toArray(
        new java.security.cert.X509Certificate[0])).sslProvider(SslProvider.OPENSSL).protocols("TLSv1.3").build();
    assertTrue(log.attach(openssl));
    SslContext client = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols("TLSv1.3")
        .trustManager(ca.cert()).build();

    handshake(client.newEngine(ByteBufAllocator.DEFAULT, "server.test", 443),
        openssl.newEngine(ByteBufAllocator.DEFAULT));

    Await.until("the TLS 1.3 secrets in " + file, Duration.ofSeconds(10), () -> lines(file).size() >= 5);
    List<String> lines = lines(file);
    for (String label : List.of("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET")) {
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(label + " ")), label + " in " + lines);
    }
    assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file));
    assertEquals(0, log.dropped());
  }

  @Test
  void jdkContextIsNotAttached() throws Exception {
    TestPki pki = new TestPki(dir);
    TestPki.Issued server = pki.server(pki.ca("ca"), "server.test", "server.test");
    SslContext jdk = SslContextBuilder.forServer(server.key(), server.chain().toArray(
        new java.security.cert.X509Certificate[0])).sslProvider(SslProvider.JDK).build();
    assertFalse(new KeyLog(dir.resolve("never.log")).attach(jdk));
    assertFalse(Files.exists(dir.resolve("never.log")));
  }

  @Test
  void existingFileIsNarrowedToOwnerOnlyAndAppendedTo() throws Exception {
    Path file = Files.writeString(dir.resolve("old.log"), "# earlier\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    KeyLog log = new KeyLog(file);
    log.offer("CLIENT_RANDOM 00 11".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    Await.until("the line in " + file, Duration.ofSeconds(10), () -> lines(file).size() == 2);
    assertEquals(List.of("# earlier", "CLIENT_RANDOM 00 11"), lines(file));
    assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file));
  }

  private static List<String> lines(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file) : List.of();
    } catch (java.io.IOException e) {
      return List.of();
    }
  }

  /** Runs the two engines against each other in memory until the client is done (bounded). */
  private static void handshake(SSLEngine client, SSLEngine server) throws SSLException {
    client.setUseClientMode(true);
    server.setUseClientMode(false);
    int size = Math.max(client.getSession().getPacketBufferSize(), server.getSession().getPacketBufferSize());
    ByteBuffer c2s = ByteBuffer.allocate(size * 4);
    ByteBuffer s2c = ByteBuffer.allocate(size * 4);
    ByteBuffer app = ByteBuffer.allocate(size * 4);
    ByteBuffer empty = ByteBuffer.allocate(0);
    client.beginHandshake();
    server.beginHandshake();
    // Until the client is done: by then the server has derived every secret (it sent its Finished).
    for (int i = 0; i < 200 && !done(client); i++) {
      step(client, empty, c2s, s2c, app);
      step(server, empty, s2c, c2s, app);
    }
    assertTrue(done(client), "handshake did not finish: client " + client.getHandshakeStatus());
  }

  private static void step(SSLEngine e, ByteBuffer empty, ByteBuffer out, ByteBuffer in, ByteBuffer app)
      throws SSLException {
    HandshakeStatus hs = e.getHandshakeStatus();
    while (hs == HandshakeStatus.NEED_TASK) {
      e.getDelegatedTask().run();
      hs = e.getHandshakeStatus();
    }
    if (hs == HandshakeStatus.NEED_WRAP) {
      e.wrap(empty, out);
    } else if (hs == HandshakeStatus.NEED_UNWRAP && in.position() > 0) {
      in.flip();
      app.clear();
      e.unwrap(in, app);
      in.compact();
    }
  }

  private static boolean done(SSLEngine e) {
    HandshakeStatus hs = e.getHandshakeStatus();
    return hs == HandshakeStatus.FINISHED || hs == HandshakeStatus.NOT_HANDSHAKING;
  }
}
