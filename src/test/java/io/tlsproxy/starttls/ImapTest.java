package io.tlsproxy.starttls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tlsproxy.starttls.StartTlsDialogue.Role;
import io.tlsproxy.starttls.Step.Action;
import io.tlsproxy.tls.HandshakeFailure;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** IMAP's STARTTLS dialogues, byte by byte. */
class ImapTest {

  private static Step feed(StartTlsDialogue d, ByteBuf buf, String text) {
    buf.writeCharSequence(text, StandardCharsets.US_ASCII);
    return d.read(buf);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.US_ASCII);
  }

  @Test
  void originateUpgradesAndGreetsTheClientWithoutCapabilityCode() {
    StartTlsDialogue d = Imap.forRole(Role.ORIGINATE);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.MORE, d.start().action());
    Step s = feed(d, in, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.\r\n");
    assertEquals("tls1 STARTTLS\r\n", text(s.reply()));
    assertEquals(Action.MORE, feed(d, in, "* CAPABILITY IMAP4rev1 STARTTLS\r\ntls1 O").action());
    assertEquals(Action.UPGRADE, feed(d, in, "K Begin TLS negotiation now.\r\n").action());
    Step done = d.upgraded();
    assertEquals(Action.DONE, done.action());
    assertEquals("* OK Dovecot ready.\r\n", text(done.forward()));
  }

  @Test
  void originateFailsAsRefusedWhenStartTlsIsRejectedOrTheServerSaysBye() {
    StartTlsDialogue d = Imap.forRole(Role.ORIGINATE);
    ByteBuf in = Unpooled.buffer();
    feed(d, in, "* OK ready\r\n");
    assertEquals(HandshakeFailure.STARTTLS_REFUSED, feed(d, in, "tls1 BAD TLS support isn't enabled.\r\n").reason());
    assertEquals(HandshakeFailure.STARTTLS_REFUSED,
        feed(Imap.forRole(Role.ORIGINATE), Unpooled.buffer(), "* BYE too busy\r\n").reason());
  }

  @Test
  void originateFailsOnGarbageAndOnAnAnswerToAnotherTag() {
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR,
        feed(Imap.forRole(Role.ORIGINATE), Unpooled.buffer(), "SSH-2.0-OpenSSH\r\n").reason());
    StartTlsDialogue d = Imap.forRole(Role.ORIGINATE);
    ByteBuf in = Unpooled.buffer();
    feed(d, in, "* OK ready\r\n");
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, feed(d, in, "x9 OK done\r\n").reason());
  }

  @Test
  void terminateOffersStartTlsRefusesLoginAndUpgrades() {
    StartTlsDialogue d = Imap.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Imap.GREETING, text(d.start().reply()));
    assertEquals("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na OK CAPABILITY completed\r\n",
        text(feed(d, in, "a CAPABILITY\r\n").reply()));
    assertEquals("b NO [PRIVACYREQUIRED] TLS required: issue STARTTLS first\r\n",
        text(feed(d, in, "b LOGIN alice secret\r\n").reply()));
    Step s = feed(d, in, "c starttls\r\n");
    assertEquals(Action.UPGRADE, s.action());
    assertEquals("c OK Begin TLS negotiation now\r\n", text(s.reply()));
  }

  @Test
  void terminateLeavesPipelinedBytesUnreadAndLogoutIsStartTlsRequired() {
    StartTlsDialogue d = Imap.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.UPGRADE, feed(d, in, "a STARTTLS\r\nb LOGIN x y\r\n").action());
    assertEquals("b LOGIN x y\r\n", in.toString(StandardCharsets.US_ASCII));
    Step logout = feed(Imap.forRole(Role.TERMINATE), Unpooled.buffer(), "z LOGOUT\r\n");
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, logout.reason());
    assertEquals("* BYE logging out\r\nz OK LOGOUT completed\r\n", text(logout.reply()));
  }

  @Test
  void backendGreetingIsDropped() {
    StartTlsDialogue d = Imap.forRole(Role.TERMINATE_BACKEND);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.MORE, feed(d, in, "* OK [CAPABILITY IMAP4rev1] rea").action());
    assertEquals(Action.DONE, feed(d, in, "dy\r\n").action());
    assertEquals(0, in.readableBytes());
    assertEquals(HandshakeFailure.STARTTLS_REFUSED,
        feed(Imap.forRole(Role.TERMINATE_BACKEND), Unpooled.buffer(), "* BYE no\r\n").reason());
  }
}
