package io.tlsproxy.starttls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tlsproxy.starttls.StartTlsDialogue.Role;
import io.tlsproxy.starttls.Step.Action;
import io.tlsproxy.tls.HandshakeFailure;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** POP3's STLS dialogues, byte by byte. */
class Pop3Test {

  private static Step feed(StartTlsDialogue d, ByteBuf buf, String text) {
    buf.writeCharSequence(text, StandardCharsets.US_ASCII);
    return d.read(buf);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.US_ASCII);
  }

  @Test
  void originateUpgradesAndGivesTheClientTheServersGreetingWhole() {
    StartTlsDialogue d = Pop3.forRole(Role.ORIGINATE);
    ByteBuf in = Unpooled.buffer();
    Step s = feed(d, in, "+OK Dovecot ready. <1.2@mail>\r\n");
    assertEquals("STLS\r\n", text(s.reply()));
    assertEquals(Action.MORE, feed(d, in, "+O").action());
    assertEquals(Action.UPGRADE, feed(d, in, "K Begin TLS\r\n").action());
    assertEquals("+OK Dovecot ready. <1.2@mail>\r\n", text(d.upgraded().forward()));
  }

  @Test
  void originateRefusedOnErrAndProtocolErrorOnGarbage() {
    StartTlsDialogue d = Pop3.forRole(Role.ORIGINATE);
    ByteBuf in = Unpooled.buffer();
    feed(d, in, "+OK hi\r\n");
    assertEquals(HandshakeFailure.STARTTLS_REFUSED, feed(d, in, "-ERR Unknown command\r\n").reason());
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR,
        feed(Pop3.forRole(Role.ORIGINATE), Unpooled.buffer(), "+OKAY\r\n").reason());
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR,
        feed(Pop3.forRole(Role.ORIGINATE), Unpooled.buffer(), "+" + "x".repeat(LineDialogue.MAX_LINE + 1)).reason());
  }

  @Test
  void terminateOffersStlsRefusesUserAndUpgrades() {
    StartTlsDialogue d = Pop3.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Pop3.GREETING, text(d.start().reply()));
    assertEquals("+OK capability list follows\r\nSTLS\r\n.\r\n", text(feed(d, in, "CAPA\r\n").reply()));
    assertEquals(Pop3.TLS_REQUIRED, text(feed(d, in, "USER alice\r\n").reply()));
    Step s = feed(d, in, "stls\r\n");
    assertEquals(Action.UPGRADE, s.action());
    assertEquals("+OK Begin TLS negotiation\r\n", text(s.reply()));
  }

  @Test
  void terminateQuitAndTooManyCommandsAreStartTlsRequired() {
    Step quit = feed(Pop3.forRole(Role.TERMINATE), Unpooled.buffer(), "QUIT\r\n");
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, quit.reason());
    assertEquals("+OK bye\r\n", text(quit.reply()));
    Step many = feed(Pop3.forRole(Role.TERMINATE), Unpooled.buffer(), "USER a\r\n".repeat(MailServer.MAX_COMMANDS));
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, many.reason());
  }

  @Test
  void backendGreetingIsDroppedAndErrIsRefused() {
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.DONE, feed(Pop3.forRole(Role.TERMINATE_BACKEND), in, "+OK ready\r\n").action());
    assertEquals(HandshakeFailure.STARTTLS_REFUSED,
        feed(Pop3.forRole(Role.TERMINATE_BACKEND), Unpooled.buffer(), "-ERR busy\r\n").reason());
  }
}
