package io.tlsproxy.starttls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tlsproxy.starttls.StartTlsDialogue.Role;
import io.tlsproxy.starttls.Step.Action;
import io.tlsproxy.tls.HandshakeFailure;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** LDAP's StartTLS dialogues and their BER, byte by byte. */
class LdapTest {

  /** What OpenLDAP's ldapsearch -ZZ sends: message 1, ExtendedRequest named 1.3.6.1.4.1.1466.20037. */
  private static final byte[] START_TLS = HexFormat.of().parseHex(
      "301d02010177188016312e332e362e312e342e312e313436362e3230303337");
  /** OpenLDAP's success answer to it: resultCode 0, empty matchedDN and message, no responseName. */
  private static final byte[] SUCCESS = HexFormat.of().parseHex("300c020101780701000400" + "0400");
  /** An anonymous simple BindRequest, message 1. */
  private static final byte[] BIND = HexFormat.of().parseHex("300c020101600702010304008000");

  private static Step feed(StartTlsDialogue d, ByteBuf in, byte... bytes) {
    in.writeBytes(bytes);
    return d.read(in);
  }

  @Test
  void theRequestIsTheOneOpenLdapSends() {
    assertArrayEquals(START_TLS, Ldap.startTlsRequest(1));
  }

  @Test
  void originateSendsStartTlsAndUpgradesOnSuccessReadInPieces() {
    StartTlsDialogue d = Ldap.forRole(Role.ORIGINATE);
    assertArrayEquals(START_TLS, d.start().reply());
    ByteBuf in = Unpooled.buffer();
    byte[] success = HexFormat.of().parseHex("300c02010178070a010004000400");
    for (int i = 0; i < success.length - 1; i++) {
      assertEquals(Action.MORE, feed(d, in, success[i]).action(), "after " + (i + 1) + " bytes");
    }
    Step s = feed(d, in, success[success.length - 1]);
    assertEquals(Action.UPGRADE, s.action());
    assertFalse(in.isReadable());
    assertEquals(Action.DONE, d.upgraded().action());
  }

  @Test
  void originateAcceptsAResponseNameAndALongFormLength() {
    StartTlsDialogue d = Ldap.forRole(Role.ORIGINATE);
    d.start();
    byte[] withName = Ldap.extendedResponse(1, 0, "", Ldap.START_TLS_OID);
    // the same message with its outer length in the long form (0x81 n)
    ByteBuf longForm = Unpooled.buffer().writeByte(0x30).writeByte(0x81).writeByte(withName.length - 2)
        .writeBytes(withName, 2, withName.length - 2);
    assertEquals(Action.UPGRADE, d.read(longForm).action());
  }

  @Test
  void originateFailsAsRefusedOnAnErrorResultOrANoticeOfDisconnection() {
    StartTlsDialogue d = Ldap.forRole(Role.ORIGINATE);
    d.start();
    Step s = d.read(Unpooled.wrappedBuffer(Ldap.extendedResponse(1, 52, "Could not initialize TLS", null)));
    assertEquals(HandshakeFailure.STARTTLS_REFUSED, s.reason());
    assertTrue(s.detail().contains("52") && s.detail().contains("Could not initialize TLS"), s.detail());

    StartTlsDialogue n = Ldap.forRole(Role.ORIGINATE);
    n.start();
    assertEquals(HandshakeFailure.STARTTLS_REFUSED, n.read(Unpooled.wrappedBuffer(Ldap.notice(2, "bye"))).reason());
    assertEquals(HandshakeFailure.STARTTLS_REFUSED, Ldap.forRole(Role.ORIGINATE).inputEnded().reason());
  }

  @Test
  void originateLeavesBytesAfterTheSuccessUnreadForTheDriverToRefuse() {
    StartTlsDialogue d = Ldap.forRole(Role.ORIGINATE);
    d.start();
    ByteBuf in = Unpooled.buffer().writeBytes(HexFormat.of().parseHex("300c02010178070a010004000400"))
        .writeBytes(BIND);
    assertEquals(Action.UPGRADE, d.read(in).action());
    assertEquals(BIND.length, in.readableBytes());
  }

  @Test
  void originateRefusesGarbageIndefiniteAndHostileLengthsWithoutWaitingForThem() {
    String[] hostile = {
        "48545450",               // "HTTP": not a SEQUENCE
        "3080",                   // indefinite length
        "3085ffffffffff",         // a length in five octets
        "3084ffffffff",           // four gigabytes
        "3083100000",             // one megabyte, past the bound, refused before it arrives
        "300602010277010a",       // message 2: not the answer to ours
        "30050201016100",         // a BindResponse, not an ExtendedResponse
        "3007020101780" + "20a05",  // a result code element longer than what holds it
        "30080201017803" + "0a0500",  // an integer of five octets
    };
    for (String hex : hostile) {
      StartTlsDialogue d = Ldap.forRole(Role.ORIGINATE);
      d.start();
      Step s = feed(d, Unpooled.buffer(), HexFormat.of().parseHex(hex));
      assertEquals(Action.FAIL, s.action(), hex);
      assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, s.reason(), hex);
    }
  }

  @Test
  void terminateAnswersStartTlsWithSuccessNamingTheOperation() {
    StartTlsDialogue d = Ldap.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer();
    assertEquals(Action.MORE, d.start().action());
    assertEquals(Action.MORE, feed(d, in, java.util.Arrays.copyOf(START_TLS, 10)).action());
    Step s = feed(d, in, java.util.Arrays.copyOfRange(START_TLS, 10, START_TLS.length));
    assertEquals(Action.UPGRADE, s.action());
    assertArrayEquals(Ldap.extendedResponse(1, 0, "", Ldap.START_TLS_OID), s.reply());
    assertEquals("3024020101781f0a0100040004008a16312e332e362e312e342e312e313436362e3230303337",
        ByteBufUtil.hexDump(s.reply()));
    assertFalse(in.isReadable());
  }

  @Test
  void terminateLeavesABindPipelinedAfterStartTlsForTheDriverToRefuse() {
    StartTlsDialogue d = Ldap.forRole(Role.TERMINATE);
    ByteBuf in = Unpooled.buffer().writeBytes(START_TLS).writeBytes(BIND);
    assertEquals(Action.UPGRADE, d.read(in).action());
    assertEquals(BIND.length, in.readableBytes());
  }

  @Test
  void terminateAnswersABindWithoutTlsWithConfidentialityRequiredThenANoticeOfDisconnection() {
    StartTlsDialogue d = Ldap.forRole(Role.TERMINATE);
    Step s = feed(d, Unpooled.buffer(), BIND);
    assertEquals(Action.FAIL, s.action());
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, s.reason());
    ByteBuf reply = Unpooled.wrappedBuffer(s.reply());
    // a BindResponse to message 1 with resultCode 13
    assertEquals("020101", ByteBufUtil.hexDump(reply, 2, 3));
    assertEquals(0x61, reply.getUnsignedByte(5));
    assertEquals("0a010d", ByteBufUtil.hexDump(reply, 7, 3));
    // then message 0, an ExtendedResponse (the notice), also with 13
    int second = 2 + reply.getUnsignedByte(1);
    assertEquals(0x30, reply.getUnsignedByte(second));
    assertEquals(0, reply.getUnsignedByte(second + 4));
    assertEquals(0x78, reply.getUnsignedByte(second + 5));
    assertTrue(ByteBufUtil.hexDump(s.reply()).endsWith(ByteBufUtil.hexDump(
        Ldap.NOTICE_OF_DISCONNECTION_OID.getBytes(java.nio.charset.StandardCharsets.US_ASCII))));
  }

  @Test
  void terminateRefusesOtherExtendedOperationsUnbindAndGarbage() {
    StartTlsDialogue whoami = Ldap.forRole(Role.TERMINATE);
    byte[] whoAmI = HexFormat.of().parseHex("301e02010277198017312e332e362e312e342e312e343230332e312e31312e33");
    Step w = feed(whoami, Unpooled.buffer(), whoAmI);
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, w.reason());
    assertEquals(0x78, w.reply()[5] & 0xff);

    Step unbind = feed(Ldap.forRole(Role.TERMINATE), Unpooled.buffer(), HexFormat.of().parseHex("30050201024200"));
    assertEquals(HandshakeFailure.STARTTLS_REQUIRED, unbind.reason());
    assertEquals(0, unbind.reply().length);

    Step garbage = feed(Ldap.forRole(Role.TERMINATE), Unpooled.buffer(), "GET /".getBytes());
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, garbage.reason());
    Step huge = feed(Ldap.forRole(Role.TERMINATE), Unpooled.buffer(), HexFormat.of().parseHex("30847fffffff"));
    assertEquals(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, huge.reason());

    assertEquals(HandshakeFailure.PEER_CLOSED, Ldap.forRole(Role.TERMINATE).inputEnded().reason());
  }

  @Test
  void integersAreWrittenInTheirShortestForm() {
    assertEquals("020100", ByteBufUtil.hexDump(Ber.integer(Ber.INTEGER, 0)));
    assertEquals("02020080", ByteBufUtil.hexDump(Ber.integer(Ber.INTEGER, 128)));
    assertEquals("0203008000", ByteBufUtil.hexDump(Ber.integer(Ber.INTEGER, 0x8000)));
    assertEquals("02047fffffff", ByteBufUtil.hexDump(Ber.integer(Ber.INTEGER, Integer.MAX_VALUE)));
  }
}
