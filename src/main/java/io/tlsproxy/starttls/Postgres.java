package io.tlsproxy.starttls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.tlsproxy.tls.HandshakeFailure;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * PostgreSQL's upgrade: the client sends an {@code SSLRequest} (length 8, code 80877103) before its startup
 * message, the server answers one byte, 'S' (TLS handshake next) or 'N' (carry on in plaintext); a {@code
 * GSSENCRequest} is answered the same way. PostgreSQL 17 clients may also open with the TLS handshake itself
 * ({@code sslnegotiation=direct}). See https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SSL
 * and the message formats in https://www.postgresql.org/docs/current/protocol-message-formats.html.
 */
final class Postgres {

  static final int SSL_REQUEST = 80877103;
  static final int GSSENC_REQUEST = 80877104;
  static final int CANCEL_REQUEST = 80877102;
  /** The server's own bound on a startup packet (MAX_STARTUP_PACKET_LENGTH in its postmaster). */
  static final int MAX_STARTUP = 10000;
  /** A client asks at most for GSS encryption, then TLS: anything more is not a client. */
  static final int MAX_REQUESTS = 2;
  private static final byte TLS_HANDSHAKE_RECORD = 0x16;

  private Postgres() {
  }

  static StartTlsDialogue forRole(StartTlsDialogue.Role role) {
    return switch (role) {
      case ORIGINATE -> new Originate();
      case ORIGINATE_CLIENT -> new OriginateClient();
      case TERMINATE -> new Terminate();
      case TERMINATE_BACKEND -> StartTlsDialogue.none(); // a PostgreSQL server says nothing before the client
    };
  }

  /** An 8-byte negotiation request with {@code code}: SSLRequest or GSSENCRequest. */
  static byte[] request(int code) {
    return new byte[] {0, 0, 0, 8, (byte) (code >>> 24), (byte) (code >>> 16), (byte) (code >>> 8), (byte) code};
  }

  /**
   * The ErrorResponse a PostgreSQL server sends when {@code pg_hba.conf} allows only {@code hostssl}: severity
   * FATAL, SQLSTATE 28000 (invalid_authorization_specification), message "SSL required".
   */
  static byte[] sslRequired() {
    ByteArrayOutputStream fields = new ByteArrayOutputStream();
    field(fields, 'S', "FATAL");
    field(fields, 'V', "FATAL");
    field(fields, 'C', "28000");
    field(fields, 'M', "SSL required");
    fields.write(0);
    byte[] body = fields.toByteArray();
    int length = body.length + 4;
    ByteArrayOutputStream message = new ByteArrayOutputStream();
    message.write('E');
    message.write(length >>> 24);
    message.write(length >>> 16);
    message.write(length >>> 8);
    message.write(length);
    message.writeBytes(body);
    return message.toByteArray();
  }

  private static void field(ByteArrayOutputStream out, char type, String value) {
    out.write(type);
    out.writeBytes(value.getBytes(StandardCharsets.US_ASCII));
    out.write(0);
  }

  /** A startup packet's first 8 bytes: its length and its code (a protocol version or a request code). */
  private record Header(int length, int code) {
    static Header peek(ByteBuf in) {
      return new Header(in.getInt(in.readerIndex()), in.getInt(in.readerIndex() + 4));
    }

    boolean is(int requestCode) {
      return length == 8 && code == requestCode;
    }

    boolean startup() {
      return code >>> 16 == 3; // protocol 3.x
    }

    boolean cancel() {
      return length == 16 && code == CANCEL_REQUEST;
    }

    boolean sane() {
      return length >= 8 && length <= MAX_STARTUP;
    }

    @Override
    public String toString() {
      return "a startup packet of " + length + " bytes with code " + code;
    }
  }

  private static String shown(ByteBuf in) {
    return ByteBufUtil.hexDump(in, in.readerIndex(), Math.min(in.readableBytes(), 16));
  }

  /** tlsproxy as the client: SSLRequest, then 'S' and TLS; the client's startup packet goes through TLS. */
  static final class Originate implements StartTlsDialogue {
    private boolean answered;

    @Override
    public Step start() {
      return Step.send(request(SSL_REQUEST));
    }

    @Override
    public Step read(ByteBuf in) {
      if (!in.isReadable()) {
        return Step.more();
      }
      byte answer = in.readByte();
      answered = true;
      return switch (answer) {
        // Bytes after the 'S' are not the server's TLS (it waits for our ClientHello): the driver refuses them,
        // as libpq does since CVE-2021-23222.
        case 'S' -> Step.upgrade(new byte[0]);
        case 'N' -> Step.fail(HandshakeFailure.STARTTLS_REFUSED, "the server answered the SSLRequest with N "
            + "(ssl = off)");
        default -> Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "the server answered the SSLRequest with "
            + ByteBufUtil.hexDump(new byte[] {answer}) + (in.isReadable() ? " " + shown(in) : ""));
      };
    }

    @Override
    public Step upgraded() {
      return Step.done(); // the server speaks only after the client's startup packet
    }

    @Override
    public Step inputEnded() {
      return Step.fail(answered ? HandshakeFailure.STARTTLS_PROTOCOL_ERROR : HandshakeFailure.STARTTLS_REFUSED,
          "the server closed without answering the SSLRequest");
    }
  }

  /**
   * The plaintext client of an originating listener, once the upstream is upgraded: its own SSLRequest and
   * GSSENCRequest are answered 'N', as by a server without TLS; its startup packet (or CancelRequest) is relayed.
   */
  static final class OriginateClient implements StartTlsDialogue {
    private int requests;

    @Override
    public Step start() {
      return Step.more();
    }

    @Override
    public Step read(ByteBuf in) {
      if (in.readableBytes() < 8) {
        return Step.more();
      }
      Header h = Header.peek(in);
      if (h.is(SSL_REQUEST) || h.is(GSSENC_REQUEST)) {
        if (++requests > MAX_REQUESTS) {
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "more than " + MAX_REQUESTS
              + " encryption requests");
        }
        in.skipBytes(8);
        if (in.isReadable()) {
          // A client waits for the one-byte answer; one that does not is not speaking the protocol.
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, in.readableBytes()
              + " bytes sent after an encryption request, before its answer");
        }
        return Step.send(new byte[] {'N'});
      }
      if (h.sane() && (h.startup() || h.cancel())) {
        return Step.done();
      }
      return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "not a PostgreSQL client: " + h);
    }

    @Override
    public Step upgraded() {
      return Step.done();
    }

    @Override
    public Step inputEnded() {
      return Step.fail(HandshakeFailure.PEER_CLOSED, "the client closed before its startup packet");
    }
  }

  /**
   * tlsproxy as the server: an SSLRequest is answered 'S' and TLS follows; a GSSENCRequest 'N'; a handshake record
   * first is direct TLS; a startup packet without TLS gets the server's "SSL required" and the connection closes.
   */
  static final class Terminate implements StartTlsDialogue {
    private int requests;

    @Override
    public Step start() {
      return Step.more();
    }

    @Override
    public Step read(ByteBuf in) {
      if (!in.isReadable()) {
        return Step.more();
      }
      if (in.getByte(in.readerIndex()) == TLS_HANDSHAKE_RECORD) {
        return Step.directTls(); // PostgreSQL 17's sslnegotiation=direct: the ClientHello comes first
      }
      if (in.readableBytes() < 8) {
        return Step.more();
      }
      Header h = Header.peek(in);
      if (h.is(SSL_REQUEST)) {
        in.skipBytes(8);
        // Whatever came with the request is refused by the driver before TLS starts (CVE-2021-23214).
        return Step.upgrade(new byte[] {'S'});
      }
      if (h.is(GSSENC_REQUEST)) {
        if (++requests > MAX_REQUESTS) {
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "more than " + MAX_REQUESTS
              + " GSSENCRequests");
        }
        in.skipBytes(8);
        if (in.isReadable()) {
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, in.readableBytes()
              + " bytes sent after a GSSENCRequest, before its answer");
        }
        return Step.send(new byte[] {'N'});
      }
      if (!h.sane()) {
        return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "not a PostgreSQL client: " + h);
      }
      if (h.cancel()) {
        // Its secret key would travel in plaintext; a server answers a CancelRequest with nothing.
        return Step.fail(HandshakeFailure.STARTTLS_REQUIRED, "a CancelRequest without TLS");
      }
      if (h.startup()) {
        return Step.fail(HandshakeFailure.STARTTLS_REQUIRED, "a startup packet without TLS", sslRequired());
      }
      return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "not a PostgreSQL client: " + h);
    }

    @Override
    public Step upgraded() {
      return Step.done(); // the startup packet comes inside TLS and goes to the backend as it is
    }

    @Override
    public Step inputEnded() {
      return Step.fail(requests > 0 ? HandshakeFailure.STARTTLS_REQUIRED : HandshakeFailure.PEER_CLOSED,
          "the client closed without asking for TLS");
    }
  }
}
