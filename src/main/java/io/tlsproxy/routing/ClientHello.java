package io.tlsproxy.routing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tlsproxy.metrics.RejectReason;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads the server name from the start of a TLS connection without taking part in it: the ClientHello may come in
 * several records (RFC 8446 section 5.1) and in several reads, so {@link #parse} is called again with more bytes
 * until it has an answer. Input is untrusted: every length is checked against what is there, and the hello is
 * capped.
 */
final class ClientHello {

  /** Largest handshake message accepted; real ClientHellos are a few hundred bytes to a few KiB. */
  static final int MAX_HELLO = 16 * 1024;
  /** Largest number of bytes buffered while looking for the hello: the hello plus generous record headers. */
  static final int MAX_BUFFERED = 2 * MAX_HELLO;

  static final RejectReason NOT_TLS = RejectReason.NOT_TLS;
  static final RejectReason MALFORMED = RejectReason.MALFORMED_CLIENT_HELLO;
  static final RejectReason TOO_LARGE = RejectReason.CLIENT_HELLO_TOO_LARGE;
  static final RejectReason SSL_V2 = RejectReason.SSLV2_CLIENT_HELLO;

  private static final int HANDSHAKE = 22;
  private static final int CLIENT_HELLO = 1;
  private static final int RECORD_HEADER = 5;
  private static final int MAX_RECORD = 16384;
  private static final int EXT_SERVER_NAME = 0;
  private static final int HOST_NAME = 0;

  /**
   * What is known so far: {@code complete} false means at least {@code need} readable bytes are needed before
   * parsing again can tell more (so that a hello dribbled in byte by byte is not re-read at every byte);
   * otherwise {@code failure} is a reason to refuse, or null with {@code serverName} the name sent (null when the
   * client sent none).
   */
  record Result(boolean complete, String serverName, RejectReason failure, int need) {
    static Result more(int need) {
      return new Result(false, null, null, need);
    }

    static Result failed(RejectReason reason) {
      return new Result(true, null, reason, 0);
    }

    static Result name(String serverName) {
      return new Result(true, serverName, null, 0);
    }
  }

  private ClientHello() {
  }

  /** Looks at the readable bytes of {@code in} without consuming them. */
  static Result parse(ByteBuf in) {
    int pos = in.readerIndex();
    int end = in.writerIndex();
    int start = pos;
    if (end - pos < 1) {
      return Result.more(1);
    }
    int first = in.getUnsignedByte(pos);
    if ((first & 0x80) != 0) {
      // An SSL 2.0-format hello: a two-byte length with the high bit set, then message type 1.
      if (end - pos < 3) {
        return Result.more(3);
      }
      return Result.failed(in.getUnsignedByte(pos + 2) == CLIENT_HELLO ? SSL_V2 : NOT_TLS);
    }
    if (first != HANDSHAKE) {
      return Result.failed(NOT_TLS);
    }
    if (end - pos >= 2 && in.getUnsignedByte(pos + 1) != 3) {
      return Result.failed(NOT_TLS);
    }
    // Gather the handshake bytes of consecutive handshake records until the whole hello is there.
    ByteBuf hello = Unpooled.buffer(0, MAX_HELLO + 4 + MAX_RECORD);
    try {
      while (true) {
        if (hello.readableBytes() >= 4) {
          if (hello.getUnsignedByte(0) != CLIENT_HELLO) {
            return Result.failed(MALFORMED);
          }
          int length = hello.getUnsignedMedium(1);
          if (length > MAX_HELLO) {
            return Result.failed(TOO_LARGE);
          }
          if (hello.readableBytes() >= 4 + length) {
            return body(hello.slice(4, length));
          }
        }
        if (end - pos < RECORD_HEADER) {
          return Result.more(pos - start + RECORD_HEADER);
        }
        int length = in.getUnsignedShort(pos + 3);
        if (in.getUnsignedByte(pos) != HANDSHAKE || in.getUnsignedByte(pos + 1) != 3 || length == 0
            || length > MAX_RECORD) {
          return Result.failed(MALFORMED);
        }
        if (end - pos - RECORD_HEADER < length) {
          return Result.more(pos - start + RECORD_HEADER + length);
        }
        if (hello.readableBytes() + length > hello.maxCapacity()) {
          return Result.failed(TOO_LARGE);
        }
        hello.writeBytes(in, pos + RECORD_HEADER, length);
        pos += RECORD_HEADER + length;
      }
    } finally {
      hello.release();
    }
  }

  /** The ClientHello body (RFC 8446 section 4.1.2): version, random, session id, suites, compression, extensions. */
  private static Result body(ByteBuf b) {
    try {
      b.skipBytes(2 + 32);
      b.skipBytes(b.readUnsignedByte());
      int suites = b.readUnsignedShort();
      if (suites < 2 || suites % 2 != 0) {
        return Result.failed(MALFORMED);
      }
      b.skipBytes(suites);
      int compression = b.readUnsignedByte();
      if (compression < 1) {
        return Result.failed(MALFORMED);
      }
      b.skipBytes(compression);
      if (!b.isReadable()) {
        return Result.name(null); // no extensions at all, so no SNI
      }
      ByteBuf extensions = b.readSlice(b.readUnsignedShort());
      if (b.isReadable()) {
        return Result.failed(MALFORMED);
      }
      while (extensions.isReadable()) {
        int type = extensions.readUnsignedShort();
        ByteBuf data = extensions.readSlice(extensions.readUnsignedShort());
        if (type == EXT_SERVER_NAME) {
          return serverName(data);
        }
      }
      return Result.name(null);
    } catch (IndexOutOfBoundsException e) {
      // A length pointing past the end of the hello.
      return Result.failed(MALFORMED);
    }
  }

  /** The server_name extension (RFC 6066 section 3): a list of which only the host_name entry is used. */
  private static Result serverName(ByteBuf data) {
    ByteBuf list = data.readSlice(data.readUnsignedShort());
    if (data.isReadable()) {
      return Result.failed(MALFORMED);
    }
    while (list.isReadable()) {
      int type = list.readUnsignedByte();
      ByteBuf name = list.readSlice(list.readUnsignedShort());
      if (type == HOST_NAME) {
        return hostName(name);
      }
    }
    return Result.name(null);
  }

  /** A host name is ASCII letters, digits, '-' and '.'; anything else is not a name we could route on. */
  private static Result hostName(ByteBuf name) {
    int n = name.readableBytes();
    if (n == 0 || n > 255) {
      return Result.failed(MALFORMED);
    }
    for (int i = name.readerIndex(); i < name.writerIndex(); i++) {
      int c = name.getUnsignedByte(i);
      boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
          || c == '_';
      if (!ok) {
        return Result.failed(MALFORMED);
      }
    }
    return Result.name(name.toString(StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT));
  }
}
