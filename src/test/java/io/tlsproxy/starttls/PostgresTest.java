package io.tlsproxy.starttls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tlsproxy.starttls.StartTlsDialogue.Role;
import io.tlsproxy.starttls.Step.Action;
import io.tlsproxy.tls.HandshakeFailure;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** PostgreSQL's SSLRequest dialogues, byte by byte. */
class PostgresTest {

  private static final byte[] SSL_REQUEST = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f};
  private static final byte[] GSSENC_REQUEST = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x30};

  /** A protocol 3.0 startup packet for user postgres. */
  private static byte[] startup() {
    byte[] params = "user\0postgres\0\0".getBytes(StandardCharsets.US_ASCII);
    ByteBuf b = Unpooled.buffer();
    b.writeInt(8 + params.length).writeInt(196608).writeBytes(params);
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    return out;
  }

  private static Step feed(StartTlsDialogue d, ByteBuf in, byte... bytes) {
    in.writeBytes(bytes);
    return d.read(in);
  }

  private static Step feed(StartTlsDialogue d, ByteBuf in, int... bytes) {
    for (int b : bytes) {
      in.writeByte(b);
    }
    return d.read(in);
  }

  @Test
  void theRequestCodesAreTheProtocols() {
    assertArrayEquals(SSL_REQUEST, Postgres.request(Postgres.SSL_REQUEST));
    assertArrayEquals(GSSENC_REQUEST, Postgres.request(Postgres.GSSENC_REQUEST));
  }

  @Test
  void originateSendsSslRequestAndUpgradesOnS() {
    StartTlsDialogue d = Postgres.forRole(Role.ORIGINATE);
    Step start = d.start();
    assertEquals(Action.SEND, start.action());
    assertArrayEquals(SSL_REQUEST, start.reply());
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.MORE, d.read(in).action());
    Step s = feed(d, in, (byte) 'S');
    assertEquals(Action.UPGRADE, s.action());
    assertEquals(0, s.reply().length);
    assertFalse(in.isReadable());
    assertEquals(Action.DONE, d.upgraded().action());
    assertEquals(0, d.upgraded().forward().length);
  }

  @Test
  void originateLeavesBytesAfterTheSUnreadForTheDriverToRefuse() {
    StartTlsDialogue d = Postgres.forRole(Role.ORIGINATE);
    d.start();
    ByteBuf in = Unpooled.buffer();
    Step s = feed(d, in, (byte) 'S', (byte) 'E', 0, 0, 0, 4);
    assertEquals(Action.UPGRADE, s.action());
    assertEquals(5, in.readableBytes(), "CVE-2021-23222: what follows the 'S' must stay visible to the driver");
  }

  @Test
  void originateFailsAsRefusedOnNAndAsProtocolErrorOnAnythingElse() {
    StartTlsDialogue refused = Postgres.forRole(Role.ORIGINATE);
    refused.start();
    Step n = feed(refused, Unpooled.buffer(), (byte) 'N');
    assertEquals(Action.FAIL, n.action());
    assertEquals(HandshakeFailure.STARTTLS_REFUSED, n.reason());

    StartTlsDialogue garbage = Postgres.forRole(Role.ORIGINATE);
    garbage.start();
    Step g = feed(garbage, Unpooled.buffer(), "HTTP/1.1 400".getBytes(StandardCharsets.US_ASCII));
    assertEquals(Action.FAIL, g.action());
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, g.reason());
    assertTrue(g.detail().contains("48"), g.detail());

    StartTlsDialogue closed = Postgres.forRole(Role.ORIGINATE);
    closed.start();
    assertEquals(HandshakeFailure.STARTTLS_REFUSED, closed.inputEnded().reason());
  }

  @Test
  void originateClientAnswersBothEncryptionRequestsWithNThenHandsTheStartupPacketToTheRelay() {
    StartTlsDialogue d = Postgres.forRole(Role.ORIGINATE_CLIENT);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.MORE, d.start().action());
    assertEquals(Action.MORE, feed(d, in, 0, 0, 0).action());
    Step gss = feed(d, in, 8, 0x04, (byte) 0xd2, 0x16, 0x30);
    assertEquals(Action.SEND, gss.action());
    assertArrayEquals(new byte[] {'N'}, gss.reply());
    Step ssl = feed(d, in, SSL_REQUEST);
    assertArrayEquals(new byte[] {'N'}, ssl.reply());
    byte[] startup = startup();
    Step done = feed(d, in, startup);
    assertEquals(Action.DONE, done.action());
    assertEquals(startup.length, in.readableBytes(), "the startup packet is left for the relay, whole");
  }

  @Test
  void originateClientRefusesEndlessRequestsPipelinedBytesAndNonsense() {
    StartTlsDialogue many = Postgres.forRole(Role.ORIGINATE_CLIENT);
    ByteBuf in = Unpooled.buffer();
    feed(many, in, SSL_REQUEST);
    feed(many, in, SSL_REQUEST);
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, feed(many, in, SSL_REQUEST).reason());

    StartTlsDialogue pipelined = Postgres.forRole(Role.ORIGINATE_CLIENT);
    ByteBuf both = Unpooled.buffer().writeBytes(SSL_REQUEST).writeBytes(startup());
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, pipelined.read(both).reason());

    StartTlsDialogue huge = Postgres.forRole(Role.ORIGINATE_CLIENT);
    Step h = feed(huge, Unpooled.buffer(), 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 3, 0, 0);
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, h.reason());

    StartTlsDialogue http = Postgres.forRole(Role.ORIGINATE_CLIENT);
    Step g = feed(http, Unpooled.buffer(), "GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, g.reason());
  }

  @Test
  void terminateAnswersSslRequestWithSAndUpgradesAcrossSplitReads() {
    StartTlsDialogue d = Postgres.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.MORE, d.start().action());
    for (int i = 0; i < 7; i++) {
      assertEquals(Action.MORE, feed(d, in, SSL_REQUEST[i]).action());
    }
    Step s = feed(d, in, SSL_REQUEST[7]);
    assertEquals(Action.UPGRADE, s.action());
    assertArrayEquals(new byte[] {'S'}, s.reply());
    assertFalse(in.isReadable());
    assertEquals(Action.DONE, d.upgraded().action());
  }

  @Test
  void terminateLeavesAStartupPacketPipelinedAfterTheSslRequestForTheDriverToRefuse() {
    StartTlsDialogue d = Postgres.forRole(Role.TERMINATE);
    byte[] startup = startup();
    ByteBuf in = Unpooled.buffer().writeBytes(SSL_REQUEST).writeBytes(startup);
    assertEquals(Action.UPGRADE, d.read(in).action());
    assertEquals(startup.length, in.readableBytes(), "CVE-2021-23214: the driver must see the pipelined bytes");
  }

  @Test
  void terminateAnswersGssEncWithNThenTakesTheSslRequest() {
    StartTlsDialogue d = Postgres.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    assertArrayEquals(new byte[] {'N'}, feed(d, in, GSSENC_REQUEST).reply());
    assertEquals(Action.UPGRADE, feed(d, in, SSL_REQUEST).action());
  }

  @Test
  void terminateTakesATlsHandshakeRecordFirstAsDirectTlsAndLeavesItUnread() {
    StartTlsDialogue d = Postgres.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    Step s = feed(d, in, 0x16, 0x03, 0x01);
    assertEquals(Action.DIRECT_TLS, s.action());
    assertEquals(3, in.readableBytes());
  }

  @Test
  void terminateAnswersAPlaintextStartupPacketWithSslRequiredAndCloses() {
    StartTlsDialogue d = Postgres.forRole(Role.TERMINATE);
    Step s = feed(d, Unpooled.buffer(), startup());
    assertEquals(Action.FAIL, s.action());
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, s.reason());
    ByteBuf reply = Unpooled.wrappedBuffer(s.reply());
    assertEquals('E', reply.readByte());
    assertEquals(s.reply().length - 1, reply.readInt());
    String fields = reply.toString(StandardCharsets.US_ASCII);
    assertEquals("SFATAL\0VFATAL\0C28000\0MSSL required\0\0", fields);
  }

  @Test
  void terminateRefusesAPlaintextCancelRequestSilentlyAndHostileLengthsAsProtocolErrors() {
    StartTlsDialogue cancel = Postgres.forRole(Role.TERMINATE);
    Step c = feed(cancel, Unpooled.buffer(), 0, 0, 0, 16, 0x04, (byte) 0xd2, 0x16, 0x2e, 1, 2, 3, 4, 5, 6, 7, 8);
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, c.reason());
    assertEquals(0, c.reply().length);

    for (byte[] hostile : new byte[][] {{0, 0, 0, 4, 0, 3, 0, 0}, {0x7f, 0, 0, 0, 0, 3, 0, 0},
        {(byte) 0x80, 0, 0, 0, 0, 3, 0, 0}, {0, 0, 0, 8, 0x12, 0x34, 0x56, 0x78}}) {
      StartTlsDialogue d = Postgres.forRole(Role.TERMINATE);
      assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, feed(d, Unpooled.buffer(), hostile).reason());
    }
    StartTlsDialogue gss = Postgres.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    feed(gss, in, GSSENC_REQUEST);
    feed(gss, in, GSSENC_REQUEST);
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, feed(gss, in, GSSENC_REQUEST).reason());
  }

  @Test
  void terminateCountsAClientThatLeavesAfterAskingForNothingAsClosedAndAfterGssAsRequired() {
    assertEquals(HandshakeFailure.PEER_CLOSED, Postgres.forRole(Role.TERMINATE).inputEnded().reason());
    StartTlsDialogue d = Postgres.forRole(Role.TERMINATE);
    feed(d, Unpooled.buffer(), GSSENC_REQUEST);
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, d.inputEnded().reason());
  }

  @Test
  void theBackendOfATerminatingListenerHasNothingToSay() {
    assertEquals(Action.DONE, Postgres.forRole(Role.TERMINATE_BACKEND).start().action());
  }
}
