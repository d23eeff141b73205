package io.tlsproxy.starttls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tlsproxy.starttls.StartTlsDialogue.Role;
import io.tlsproxy.starttls.Step.Action;
import io.tlsproxy.tls.HandshakeFailure;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** SMTP's STARTTLS dialogues, byte by byte. */
class SmtpTest {

  private static Step feed(StartTlsDialogue d, ByteBuf buf, String text) {
    buf.writeCharSequence(text, StandardCharsets.US_ASCII);
    return d.read(buf);
  }

  private static String reply(Step s) {
    return new String(s.reply(), StandardCharsets.US_ASCII);
  }

  @Test
  void originateReadsGreetingAndEhloThenUpgradesAndGivesTheClientTheServersGreeting() {
    StartTlsDialogue d = Smtp.forRole(Role.ORIGINATE);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.MORE, d.start().action());
    assertEquals(Action.MORE, feed(d, in, "220-mail.example ESMTP\r\n").action());
    Step ehlo = feed(d, in, "220 welcome\r\n");
    assertEquals("EHLO localhost\r\n", reply(ehlo));
    assertEquals(Action.MORE, feed(d, in, "250-mail.example\r\n250-PIPELI").action());
    Step starttls = feed(d, in, "NING\r\n250 STARTTLS\r\n");
    assertEquals("STARTTLS\r\n", reply(starttls));
    assertEquals(Action.UPGRADE, feed(d, in, "220 2.0.0 go ahead\r\n").action());
    assertFalse(in.isReadable());
    Step done = d.upgraded();
    assertEquals(Action.DONE, done.action());
    assertEquals("220-mail.example ESMTP\r\n220 welcome\r\n", new String(done.forward(), StandardCharsets.US_ASCII));
  }

  @Test
  void originateFailsAsRefusedWhenTheServerDoesNotOfferStartTls() {
    StartTlsDialogue d = Smtp.forRole(Role.ORIGINATE);
    ByteBuf in = Unpooled.buffer();
    feed(d, in, "220 hi\r\n");
    Step s = feed(d, in, "250-x\r\n250 8BITMIME\r\n");
    assertEquals(Action.FAIL, s.action());
    assertEquals(HandshakeFailure.STARTTLS_REFUSED, s.reason());
  }

  @Test
  void originateFailsAsRefusedWhenStartTlsIsAnsweredWithAnError() {
    StartTlsDialogue d = Smtp.forRole(Role.ORIGINATE);
    ByteBuf in = Unpooled.buffer();
    feed(d, in, "220 hi\r\n250 STARTTLS\r\n");
    Step s = feed(d, in, "454 4.7.0 TLS not available\r\n");
    assertEquals(HandshakeFailure.STARTTLS_REFUSED, s.reason());
  }

  @Test
  void originateFailsOnGarbageAndOnEndlessLines() {
    Step garbage = feed(Smtp.forRole(Role.ORIGINATE), Unpooled.buffer(), "HTTP/1.1 400 Bad Request\r\n");
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, garbage.reason());
    Step endless = feed(Smtp.forRole(Role.ORIGINATE), Unpooled.buffer(), "220 " + "x".repeat(5000));
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, endless.reason());
    StartTlsDialogue d = Smtp.forRole(Role.ORIGINATE);
    Step many = feed(d, Unpooled.buffer(), "220-x\r\n".repeat(LineDialogue.MAX_LINES + 1));
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, many.reason());
  }

  @Test
  void terminateGreetsOffersStartTlsRefusesMailAndUpgradesOnStartTls() {
    StartTlsDialogue d = Smtp.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Smtp.GREETING, reply(d.start()));
    assertEquals("250-tlsproxy\r\n250 STARTTLS\r\n", reply(feed(d, in, "EHLO client\r\n")));
    assertEquals(Smtp.TLS_REQUIRED, reply(feed(d, in, "MAIL FROM:<a@b>\r\n")));
    Step s = feed(d, in, "starttls\r\n");
    assertEquals(Action.UPGRADE, s.action());
    assertEquals("220 2.0.0 Ready to start TLS\r\n", reply(s));
  }

  @Test
  void terminateLeavesBytesPipelinedAfterStartTlsUnread() {
    StartTlsDialogue d = Smtp.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    Step s = feed(d, in, "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n");
    assertEquals(Action.UPGRADE, s.action());
    assertEquals("250-tlsproxy\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n", reply(s));
    assertEquals(17, in.readableBytes(), "left for the driver, which refuses it");
  }

  @Test
  void terminateQuitAndTooManyCommandsAreStartTlsRequired() {
    StartTlsDialogue d = Smtp.forRole(Role.TERMINATE);
    Step quit = feed(d, Unpooled.buffer(), "QUIT\r\n");
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, quit.reason());
    assertEquals("221 2.0.0 Bye\r\n", reply(quit));
    StartTlsDialogue e = Smtp.forRole(Role.TERMINATE);
    Step many = feed(e, Unpooled.buffer(), "NOOP x\r\nDATA\r\n".repeat(MailServer.MAX_COMMANDS));
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, many.reason());
    StartTlsDialogue helo = Smtp.forRole(Role.TERMINATE);
    feed(helo, Unpooled.buffer(), "HELO x\r\n");
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, helo.inputEnded().reason(), "closed after a command");
    assertEquals(HandshakeFailure.PEER_CLOSED, Smtp.forRole(Role.TERMINATE).inputEnded().reason());
  }

  @Test
  void backendGreetingIsDroppedAndWhatFollowsLeftForTheRelay() {
    StartTlsDialogue d = Smtp.forRole(Role.TERMINATE_BACKEND);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.MORE, feed(d, in, "220-backend\r\n220 ").action());
    assertEquals(Action.DONE, feed(d, in, "ready\r\n250 later\r\n").action());
    assertEquals("250 later\r\n", in.toString(StandardCharsets.US_ASCII));
    assertEquals(HandshakeFailure.STARTTLS_REFUSED,
        feed(Smtp.forRole(Role.TERMINATE_BACKEND), Unpooled.buffer(), "554 go away\r\n").reason());
  }

  @Test
  void theServerTalkFedByteByByteGivesTheSameSteps() {
    String talk = "220 hi\r\n250-a\r\n250 STARTTLS\r\n220 go\r\n";
    StartTlsDialogue d = Smtp.forRole(Role.ORIGINATE);
    ByteBuf in = Unpooled.buffer();
    StringBuilder sent = new StringBuilder();
    Action last = null;
    for (char c : talk.toCharArray()) {
      Step s = feed(d, in, String.valueOf(c));
      sent.append(reply(s));
      last = s.action();
    }
    assertEquals(Action.UPGRADE, last);
    assertEquals("EHLO localhost\r\nSTARTTLS\r\n", sent.toString());
  }
}
