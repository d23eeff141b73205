package io.tlsproxy.starttls;

import io.netty.buffer.ByteBuf;
import io.tlsproxy.tls.HandshakeFailure;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * LDAP's StartTLS extended operation (RFC 4511 section 4.14): an ExtendedRequest named 1.3.6.1.4.1.1466.20037,
 * answered by an ExtendedResponse whose resultCode 0 means "TLS next". Messages are BER (RFC 4511 section 5.1),
 * framed with a bounded length. The client sends first; a server that will not go on sends a Notice of
 * Disconnection (message ID 0, RFC 4511 section 4.4.1).
 */
final class Ldap {

  static final String START_TLS_OID = "1.3.6.1.4.1.1466.20037";
  static final String NOTICE_OF_DISCONNECTION_OID = "1.3.6.1.4.1.1466.20036";
  /** The message ID of tlsproxy's own StartTLS request; nothing else is outstanding on the connection then. */
  static final int MESSAGE_ID = 1;
  /** Far more than a StartTLS request or response, or a bind or search, needs before TLS. */
  static final int MAX_MESSAGE = 16 * 1024;
  static final int SUCCESS = 0;
  static final int PROTOCOL_ERROR = 2;
  static final int CONFIDENTIALITY_REQUIRED = 13;

  private static final int EXTENDED_REQUEST = 0x77; // [APPLICATION 23], constructed
  private static final int EXTENDED_RESPONSE = 0x78; // [APPLICATION 24], constructed
  private static final int REQUEST_NAME = 0x80; // [0], primitive
  private static final int RESPONSE_NAME = 0x8a; // [10], primitive
  private static final int UNBIND_REQUEST = 0x42;
  private static final int ABANDON_REQUEST = 0x50;
  private static final String TLS_REQUIRED = "TLS confidentiality required: use StartTLS first";

  private Ldap() {
  }

  static StartTlsDialogue forRole(StartTlsDialogue.Role role) {
    return switch (role) {
      case ORIGINATE -> new Originate();
      case TERMINATE -> new Terminate();
      // The client speaks LDAP directly over the upgraded session; a StartTLS of its own goes to the server, which
      // answers that TLS is already on. The server says nothing before the client's first request.
      case ORIGINATE_CLIENT, TERMINATE_BACKEND -> StartTlsDialogue.none();
    };
  }

  /** The StartTLS ExtendedRequest with {@code messageId}. */
  static byte[] startTlsRequest(int messageId) {
    return Ber.element(Ber.SEQUENCE, Ber.integer(Ber.INTEGER, messageId),
        Ber.element(EXTENDED_REQUEST, Ber.element(REQUEST_NAME, ascii(START_TLS_OID))));
  }

  /** An ExtendedResponse to {@code messageId}: {@code resultCode}, a message, and {@code responseName} if any. */
  static byte[] extendedResponse(int messageId, int resultCode, String message, String responseName) {
    byte[] result = result(resultCode, message);
    byte[] body = responseName == null ? result : concat(result, Ber.element(RESPONSE_NAME, ascii(responseName)));
    return Ber.element(Ber.SEQUENCE, Ber.integer(Ber.INTEGER, messageId), Ber.element(EXTENDED_RESPONSE, body));
  }

  /** The components of an LDAPResult: resultCode, an empty matchedDN, the diagnostic message. */
  private static byte[] result(int resultCode, String message) {
    return concat(Ber.integer(Ber.ENUMERATED, resultCode), Ber.element(Ber.OCTET_STRING, new byte[0]),
        Ber.element(Ber.OCTET_STRING, ascii(message)));
  }

  /**
   * The tag of the response to a request tagged {@code requestTag} (RFC 4511 section 4.2 to 4.12), or -1 for a
   * request that gets none (unbind, abandon) or that is not a request.
   */
  static int responseTag(int requestTag) {
    return switch (requestTag) {
      case 0x60 -> 0x61; // bind
      case 0x63 -> 0x65; // search -> searchResDone
      case 0x66 -> 0x67; // modify
      case 0x68 -> 0x69; // add
      case 0x4a -> 0x6b; // delete
      case 0x6c -> 0x6d; // modify DN
      case 0x6e -> 0x6f; // compare
      case EXTENDED_REQUEST -> EXTENDED_RESPONSE;
      default -> -1;
    };
  }

  /** One framed LDAPMessage: its ID and its operation's tag and contents. */
  private record Message(int id, int opTag, Ber.Reader op) {
    /** The message at the start of {@code in} (consumed), or null if it is not all there yet. */
    static Message read(ByteBuf in) throws Ber.BerException {
      int size = Ber.frame(in, Ber.SEQUENCE, MAX_MESSAGE);
      if (size < 0) {
        return null;
      }
      byte[] bytes = new byte[size];
      in.readBytes(bytes);
      Ber.Reader message = new Ber.Reader(bytes).element(Ber.SEQUENCE);
      int id = message.element(Ber.INTEGER).intValue();
      int opTag = message.peekTag();
      return new Message(id, opTag, message.any());
    }
  }

  /** tlsproxy as the client: its StartTLS request first, then TLS once the server answers success. */
  static final class Originate implements StartTlsDialogue {
    @Override
    public Step start() {
      return Step.send(startTlsRequest(MESSAGE_ID));
    }

    @Override
    public Step read(ByteBuf in) {
      try {
        Message m = Message.read(in);
        if (m == null) {
          return Step.more();
        }
        if (m.opTag() != EXTENDED_RESPONSE || (m.id() != MESSAGE_ID && m.id() != 0)) {
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "the server answered StartTLS with message "
              + m.id() + ", operation 0x" + Integer.toHexString(m.opTag()));
        }
        int code = m.op().element(Ber.ENUMERATED).intValue();
        m.op().element(Ber.OCTET_STRING); // matchedDN
        String message = m.op().element(Ber.OCTET_STRING).text();
        if (m.id() == 0) {
          return Step.fail(HandshakeFailure.STARTTLS_REFUSED, "the server disconnected, resultCode " + code
              + (message.isEmpty() ? "" : ": " + message));
        }
        if (code != SUCCESS) {
          return Step.fail(HandshakeFailure.STARTTLS_REFUSED, "StartTLS answered with resultCode " + code
              + (message.isEmpty() ? "" : ": " + message));
        }
        // Anything the server sent after its answer is refused by the driver before TLS starts.
        return Step.upgrade(new byte[0]);
      } catch (Ber.BerException e) {
        return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "the server's answer to StartTLS has "
            + e.getMessage());
      }
    }

    @Override
    public Step upgraded() {
      return Step.done(); // the server speaks only when the client asks
    }

    @Override
    public Step inputEnded() {
      return Step.fail(HandshakeFailure.STARTTLS_REFUSED, "the server closed without answering StartTLS");
    }
  }

  /**
   * tlsproxy as the server: a StartTLS request is answered with success and TLS follows; any other request gets
   * its own response with confidentialityRequired, then a Notice of Disconnection, and the connection closes.
   */
  static final class Terminate implements StartTlsDialogue {
    private boolean received;

    @Override
    public Step start() {
      return Step.more();
    }

    @Override
    public Step read(ByteBuf in) {
      Message m;
      try {
        m = Message.read(in);
      } catch (Ber.BerException e) {
        return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "a client message with " + e.getMessage(),
            notice(PROTOCOL_ERROR, "malformed message"));
      }
      if (m == null) {
        return Step.more();
      }
      received = true;
      if (m.opTag() == EXTENDED_REQUEST && startTls(m.op())) {
        // Bytes sent with the request, before TLS, are refused by the driver: never acted on.
        return Step.upgrade(extendedResponse(m.id(), SUCCESS, "", START_TLS_OID));
      }
      if (m.opTag() == UNBIND_REQUEST || m.opTag() == ABANDON_REQUEST) {
        return Step.fail(HandshakeFailure.STARTTLS_REQUIRED, "the client unbound without StartTLS");
      }
      int responseTag = responseTag(m.opTag());
      byte[] refusal = responseTag < 0 ? new byte[0] : Ber.element(Ber.SEQUENCE, Ber.integer(Ber.INTEGER, m.id()),
          Ber.element(responseTag, result(CONFIDENTIALITY_REQUIRED, TLS_REQUIRED)));
      return Step.fail(HandshakeFailure.STARTTLS_REQUIRED, "operation 0x" + Integer.toHexString(m.opTag())
          + " without StartTLS", concat(refusal, notice(CONFIDENTIALITY_REQUIRED, TLS_REQUIRED)));
    }

    private static boolean startTls(Ber.Reader request) {
      try {
        return START_TLS_OID.equals(request.element(REQUEST_NAME).text());
      } catch (Ber.BerException e) {
        return false;
      }
    }

    @Override
    public Step upgraded() {
      return Step.done();
    }

    @Override
    public Step inputEnded() {
      return Step.fail(received ? HandshakeFailure.STARTTLS_REQUIRED : HandshakeFailure.PEER_CLOSED,
          "the client closed without StartTLS");
    }
  }

  /** The unsolicited Notice of Disconnection with {@code resultCode}. */
  static byte[] notice(int resultCode, String message) {
    return extendedResponse(0, resultCode, message, NOTICE_OF_DISCONNECTION_OID);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
