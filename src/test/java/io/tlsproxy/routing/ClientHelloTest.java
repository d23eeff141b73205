package io.tlsproxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The ClientHello reader on real hellos from the JDK client, split, truncated, altered and random. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientHelloTest {

  @TempDir
  static Path dir;
  private byte[] hello;
  private byte[] helloWithoutSni;

  @BeforeAll
  void record() throws Exception {
    TestPki pki = new TestPki(dir);
    SSLContext ctx = TestPki.clientContext(pki.ca("hello-ca"), null);
    hello = Clients.recordClientHello(ctx, "api.example.test");
    helloWithoutSni = Clients.recordClientHello(ctx, null);
  }

  @Test
  void serverNameIsReadFromARealHello() {
    ClientHello.Result r = parse(hello);
    assertTrue(r.complete());
    assertNull(r.failure());
    assertEquals("api.example.test", r.serverName());
  }

  @Test
  void helloWithoutSniHasNoName() {
    ClientHello.Result r = parse(helloWithoutSni);
    assertTrue(r.complete());
    assertNull(r.failure());
    assertNull(r.serverName());
  }

  @Test
  void everyPrefixAsksForMoreAndNeverMoreThanTheWhole() {
    for (int n = 0; n < hello.length; n++) {
      ClientHello.Result r = parse(Arrays.copyOf(hello, n));
      assertFalse(r.complete(), "complete after " + n + " of " + hello.length + " bytes");
      assertTrue(r.need() > n && r.need() <= hello.length, "need " + r.need() + " after " + n);
    }
  }

  @Test
  void helloSplitOverSeveralRecordsIsReassembled() {
    byte[] body = Arrays.copyOfRange(hello, 5, hello.length);
    ByteBuf split = Unpooled.buffer();
    for (int off = 0; off < body.length; off += 7) {
      int len = Math.min(7, body.length - off);
      split.writeBytes(new byte[] {22, 3, 1, 0, (byte) len});
      split.writeBytes(body, off, len);
    }
    ClientHello.Result r = ClientHello.parse(split);
    assertEquals("api.example.test", r.serverName());
    assertEquals(0, split.readerIndex(), "parsing must not consume");
  }

  @Test
  void plaintextIsNotTls() {
    assertEquals(ClientHello.NOT_TLS, parse("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII))
        .failure());
    assertEquals(ClientHello.NOT_TLS, parse(new byte[] {22, 9, 9}).failure());
  }

  @Test
  void sslV2HelloIsRefused() {
    assertEquals(ClientHello.SSL_V2, parse(new byte[] {(byte) 0x80, 0x2e, 1, 3, 1}).failure());
  }

  @Test
  void handshakeOtherThanClientHelloIsMalformed() {
    byte[] altered = hello.clone();
    altered[5] = 2; // ServerHello
    assertEquals(ClientHello.MALFORMED, parse(altered).failure());
  }

  @Test
  void lengthsPointingPastTheEndAreMalformed() {
    byte[] altered = hello.clone();
    // The session id length (after record header, handshake header, version and random) claims too much.
    altered[5 + 4 + 2 + 32] = (byte) 0xff;
    assertEquals(ClientHello.MALFORMED, parse(altered).failure());
  }

  @Test
  void oversizedHelloIsRefusedWithoutWaitingForIt() {
    byte[] huge = {22, 3, 1, 0, 4, 1, 1, 0, 0};
    assertEquals(ClientHello.TOO_LARGE, parse(huge).failure());
  }

  @Test
  void randomAndTruncatedInputNeverThrows() {
    Random random = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      byte[] input;
      if (i % 2 == 0) {
        input = new byte[random.nextInt(300)];
        random.nextBytes(input);
        if (input.length > 2 && i % 4 == 0) {
          input[0] = 22;
          input[1] = 3;
        }
      } else {
        input = Arrays.copyOf(hello, random.nextInt(hello.length + 1));
        if (input.length > 0) {
          input[random.nextInt(input.length)] = (byte) random.nextInt(256);
        }
      }
      ClientHello.Result r = parse(input);
      assertTrue(r.complete() || r.need() > 0, "no progress on input " + i);
    }
  }

  private static ClientHello.Result parse(byte[] bytes) {
    return ClientHello.parse(Unpooled.wrappedBuffer(bytes));
  }
}
