package io.tlsproxy.starttls;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;

/**
 * The little of BER (ITU-T X.690) that LDAP's StartTLS needs: framing one message with a bounded, definite length
 * (RFC 4511 section 5.1 forbids the indefinite form), reading its elements, and writing short ones.
 */
final class Ber {

  static final int SEQUENCE = 0x30;
  static final int INTEGER = 0x02;
  static final int OCTET_STRING = 0x04;
  static final int ENUMERATED = 0x0a;

  /** What a malformed or oversized element was. */
  static final class BerException extends Exception {
    BerException(String message) {
      super(message, null, false, false);
    }
  }

  private Ber() {
  }

  /**
   * The size of the whole element (tag, length and value) at the start of {@code in}, or -1 if more bytes are
   * needed to know it or to hold it. Fails on a tag other than {@code tag}, an indefinite length, or a value
   * longer than {@code max} bytes.
   */
  static int frame(ByteBuf in, int tag, int max) throws BerException {
    int at = in.readerIndex();
    if (in.readableBytes() < 2) {
      return -1;
    }
    int found = in.getUnsignedByte(at);
    if (found != tag) {
      throw new BerException("tag 0x" + Integer.toHexString(found) + " where 0x" + Integer.toHexString(tag)
          + " was expected");
    }
    int first = in.getUnsignedByte(at + 1);
    long length;
    int header;
    if (first < 0x80) {
      length = first;
      header = 2;
    } else {
      int octets = first & 0x7f;
      if (octets == 0) {
        throw new BerException("an indefinite length");
      }
      if (octets > 4) {
        throw new BerException("a length in " + octets + " octets");
      }
      if (in.readableBytes() < 2 + octets) {
        return -1;
      }
      length = 0;
      for (int i = 0; i < octets; i++) {
        length = length << 8 | in.getUnsignedByte(at + 2 + i);
      }
      header = 2 + octets;
    }
    if (length > max) {
      throw new BerException("a message of " + length + " bytes, more than " + max);
    }
    int total = header + (int) length;
    return in.readableBytes() < total ? -1 : total;
  }

  /** Reads the elements of one complete, framed value, in order. */
  static final class Reader {
    private final byte[] data;
    private int pos;
    private final int end;

    Reader(byte[] data) {
      this(data, 0, data.length);
    }

    private Reader(byte[] data, int pos, int end) {
      this.data = data;
      this.pos = pos;
      this.end = end;
    }

    boolean hasMore() {
      return pos < end;
    }

    /** The tag of the next element, without reading it. */
    int peekTag() throws BerException {
      if (pos >= end) {
        throw new BerException("an element missing");
      }
      return data[pos] & 0xff;
    }

    /** The next element, which must have {@code tag}: a reader over its value. */
    Reader element(int tag) throws BerException {
      int found = peekTag();
      if (found != tag) {
        throw new BerException("tag 0x" + Integer.toHexString(found) + " where 0x" + Integer.toHexString(tag)
            + " was expected");
      }
      return any();
    }

    /** The next element whatever its tag: a reader over its value. */
    Reader any() throws BerException {
      peekTag();
      if (pos + 1 >= end) {
        throw new BerException("a truncated length");
      }
      int first = data[pos + 1] & 0xff;
      int start;
      long length;
      if (first < 0x80) {
        length = first;
        start = pos + 2;
      } else {
        int octets = first & 0x7f;
        if (octets == 0 || octets > 4 || pos + 2 + octets > end) {
          throw new BerException("a bad length");
        }
        length = 0;
        for (int i = 0; i < octets; i++) {
          length = length << 8 | (data[pos + 2 + i] & 0xff);
        }
        start = pos + 2 + octets;
      }
      if (length > end - start) {
        throw new BerException("an element longer than what holds it");
      }
      pos = start + (int) length;
      return new Reader(data, start, pos);
    }

    /** This value as a non-negative integer of at most four octets (message IDs, result codes). */
    int intValue() throws BerException {
      int length = end - pos;
      if (length < 1 || length > 4 || (data[pos] & 0x80) != 0) {
        throw new BerException("an integer of " + length + " octets");
      }
      int value = 0;
      for (int i = pos; i < end; i++) {
        value = value << 8 | (data[i] & 0xff);
      }
      return value;
    }

    /** This value as text (an OID or a message), with anything unprintable shown as '?'. */
    String text() {
      StringBuilder s = new StringBuilder();
      for (int i = pos; i < end && s.length() < 200; i++) {
        int c = data[i] & 0xff;
        s.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
      }
      return s.toString();
    }
  }

  /** An element of {@code tag} holding {@code value}. */
  static byte[] element(int tag, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 6);
    out.write(tag);
    int n = value.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n <= 0xff) {
      out.write(0x81);
      out.write(n);
    } else {
      out.write(0x82);
      out.write(n >>> 8);
      out.write(n);
    }
    out.writeBytes(value);
    return out.toByteArray();
  }

  /** An element of {@code tag} holding the elements {@code parts}, in order. */
  static byte[] element(int tag, byte[]... parts) {
    ByteArrayOutputStream value = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      value.writeBytes(p);
    }
    return element(tag, value.toByteArray());
  }

  /** A non-negative integer (or enumerated value) in its shortest form; LDAP's go up to 2^31 - 1. */
  static byte[] integer(int tag, int value) {
    if (value < 0x80) {
      return element(tag, new byte[] {(byte) value});
    } else if (value < 0x8000) {
      return element(tag, new byte[] {(byte) (value >>> 8), (byte) value});
    } else if (value < 0x800000) {
      return element(tag, new byte[] {(byte) (value >>> 16), (byte) (value >>> 8), (byte) value});
    }
    return element(tag, new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8),
        (byte) value});
  }
}
