package io.tlsproxy.proxyproto;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Version 2: a 12-byte signature, a version/command byte, a family/transport byte, a 16-bit length, then that
 * many bytes of addresses followed by TLVs.
 */
final class BinaryHeader {

  static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  static final int FIXED = 16;
  private static final int INET_BLOCK = 4 + 4 + 2 + 2;
  private static final int INET6_BLOCK = 16 + 16 + 2 + 2;
  private static final int UNIX_BLOCK = 108 + 108;
  private static final int FAMILY_UNSPEC = 0;
  private static final int FAMILY_INET = 1;
  private static final int FAMILY_INET6 = 2;
  private static final int FAMILY_UNIX = 3;
  private static final int TRANSPORT_STREAM = 1;
  private static final int TRANSPORT_DGRAM = 2;

  private BinaryHeader() {
  }

  /** Checks the 16 fixed bytes and returns the length of what follows them. */
  static int checkFixed(byte[] b) throws HeaderException {
    int version = (b[12] & 0xF0) >> 4;
    int command = b[12] & 0x0F;
    if (version != 2) {
      throw new HeaderException(HeaderError.BAD_VERSION, "version " + version + " after a version 2 signature");
    }
    if (command > 1) {
      throw new HeaderException(HeaderError.BAD_COMMAND, "command " + command + "; expected 0 (LOCAL) or 1 (PROXY)");
    }
    int family = (b[13] & 0xF0) >> 4;
    int transport = b[13] & 0x0F;
    if (family > FAMILY_UNIX || transport > TRANSPORT_DGRAM) {
      throw new HeaderException(HeaderError.BAD_FAMILY, "family " + family + ", transport " + transport
          + "; expected family 0..3 and transport 0..2");
    }
    return ((b[14] & 0xFF) << 8) | (b[15] & 0xFF);
  }

  /** Parses a complete header {@code b[0, len)} whose fixed part {@link #checkFixed} accepted. */
  static ProxyHeader parse(byte[] b, int len) throws HeaderException {
    if ((b[12] & 0x0F) == 0) {
      // LOCAL: the receiver must use the connection's own endpoints and skip the whole block, whatever it holds.
      return ProxyHeader.local();
    }
    int family = (b[13] & 0xF0) >> 4;
    int transport = b[13] & 0x0F;
    int block = switch (family) {
      case FAMILY_INET -> INET_BLOCK;
      case FAMILY_INET6 -> INET6_BLOCK;
      case FAMILY_UNIX -> UNIX_BLOCK;
      default -> 0;
    };
    if (len - FIXED < block) {
      throw new HeaderException(HeaderError.BAD_ADDRESS, "length " + (len - FIXED) + " is shorter than the "
          + block + "-byte address block of family " + family);
    }
    List<Tlv> tlvs = readTlvs(b, FIXED + block, len, "TLV");
    for (Tlv t : tlvs) {
      if (t.type() == Tlv.SSL) {
        SslTlv.parse(t.value());
      } else if (t.type() == Tlv.CRC32C) {
        checkCrc(b, len, t);
      }
    }
    if (transport != TRANSPORT_STREAM || family != FAMILY_INET && family != FAMILY_INET6) {
      // Not TCP (UNIX sockets, datagrams, unspecified): nothing a TCP proxy can use as a client address.
      return ProxyHeader.unknown(tlvs);
    }
    boolean v4 = family == FAMILY_INET;
    int a = v4 ? 4 : 16;
    InetAddress src = address(b, FIXED, a);
    InetAddress dst = address(b, FIXED + a, a);
    int ports = FIXED + 2 * a;
    int sport = ((b[ports] & 0xFF) << 8) | (b[ports + 1] & 0xFF);
    int dport = ((b[ports + 2] & 0xFF) << 8) | (b[ports + 3] & 0xFF);
    return new ProxyHeader(ProxyHeader.Command.PROXY, v4 ? ProxyHeader.Family.TCP4 : ProxyHeader.Family.TCP6,
        new InetSocketAddress(src, sport), new InetSocketAddress(dst, dport), tlvs);
  }

  private static InetAddress address(byte[] b, int at, int n) {
    byte[] a = new byte[n];
    System.arraycopy(b, at, a, 0, n);
    try {
      return n == 4 ? InetAddress.getByAddress(a) : ProxyHeader.withoutScope(a);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("4 bytes are an IPv4 address", e);
    }
  }

  /** The TLVs in {@code b[from, to)}, which they must fill exactly. */
  static List<Tlv> readTlvs(byte[] b, int from, int to, String what) throws HeaderException {
    List<Tlv> out = new ArrayList<>();
    int at = from;
    while (at < to) {
      if (to - at < 3) {
        throw new HeaderException(HeaderError.BAD_TLV, (to - at) + " bytes left at offset " + at
            + ", too few for a " + what + " header");
      }
      int type = b[at] & 0xFF;
      int n = ((b[at + 1] & 0xFF) << 8) | (b[at + 2] & 0xFF);
      if (n > to - at - 3) {
        throw new HeaderException(HeaderError.BAD_TLV, what + " 0x" + Integer.toHexString(type) + " at offset "
            + at + " claims " + n + " bytes, only " + (to - at - 3) + " remain");
      }
      byte[] v = new byte[n];
      System.arraycopy(b, at + 3, v, 0, n);
      out.add(new Tlv(type, v));
      at += 3 + n;
    }
    return out;
  }

  /** Writes {@code tlvs} into {@code out} from {@code at}; returns the position after them. */
  static int writeTlvs(List<Tlv> tlvs, byte[] out, int at) {
    for (Tlv t : tlvs) {
      out[at] = (byte) t.type();
      out[at + 1] = (byte) (t.length() >> 8);
      out[at + 2] = (byte) t.length();
      at = t.copyValue(out, at + 3);
    }
    return at;
  }

  /** The CRC32C TLV holds the checksum of the whole header computed with its own value as zeros. */
  private static void checkCrc(byte[] b, int len, Tlv crc) throws HeaderException {
    if (crc.length() != 4) {
      throw new HeaderException(HeaderError.BAD_TLV, "CRC32C TLV of " + crc.length() + " bytes, expected 4");
    }
    int at = offsetOf(b, len, Tlv.CRC32C);
    byte[] copy = java.util.Arrays.copyOf(b, len);
    java.util.Arrays.fill(copy, at + 3, at + 7, (byte) 0);
    long want = crc32c(copy, len);
    byte[] v = crc.value();
    long got = ((v[0] & 0xFFL) << 24) | ((v[1] & 0xFF) << 16) | ((v[2] & 0xFF) << 8) | (v[3] & 0xFF);
    if (want != got) {
      throw new HeaderException(HeaderError.BAD_CHECKSUM, "CRC32C TLV does not match the header");
    }
  }

  /** Where the first TLV of {@code type} starts; the TLVs were already read, so it exists. */
  private static int offsetOf(byte[] b, int len, int type) {
    int family = (b[13] & 0xF0) >> 4;
    int at = FIXED + switch (family) {
      case FAMILY_INET -> INET_BLOCK;
      case FAMILY_INET6 -> INET6_BLOCK;
      case FAMILY_UNIX -> UNIX_BLOCK;
      default -> 0;
    };
    while ((b[at] & 0xFF) != type) {
      at += 3 + (((b[at + 1] & 0xFF) << 8) | (b[at + 2] & 0xFF));
    }
    return at;
  }

  private static long crc32c(byte[] b, int len) {
    CRC32C c = new CRC32C();
    c.update(b, 0, len);
    return c.getValue();
  }

  /** The length field is 16 bits: what follows the fixed part is at most this long. */
  static final int MAX_BODY = 0xFFFF;

  /** The length of what follows the fixed part of {@code h}: its addresses, then its TLVs. */
  static int bodyLength(ProxyHeader h) {
    int size = !h.hasAddresses() ? 0 : h.family() == ProxyHeader.Family.TCP4 ? INET_BLOCK : INET6_BLOCK;
    for (Tlv t : h.tlvs()) {
      size += 3 + t.length();
    }
    return size;
  }

  static byte[] encode(ProxyHeader h) {
    boolean local = h.command() == ProxyHeader.Command.LOCAL;
    int size = FIXED + bodyLength(h);
    if (size - FIXED > MAX_BODY) {
      throw new IllegalArgumentException("a version 2 header holds at most 65535 bytes after its fixed part, this "
          + "one would need " + (size - FIXED));
    }
    if (h.tlv(Tlv.CRC32C).filter(t -> t.length() != 4).isPresent()) {
      throw new IllegalArgumentException("a CRC32C TLV holds 4 bytes (the encoder fills them in)");
    }
    byte[] out = new byte[size];
    System.arraycopy(SIGNATURE, 0, out, 0, SIGNATURE.length);
    out[12] = (byte) (local ? 0x20 : 0x21);
    int family = !h.hasAddresses() ? FAMILY_UNSPEC
        : h.source().getAddress() instanceof Inet4Address ? FAMILY_INET : FAMILY_INET6;
    out[13] = (byte) (family << 4 | (h.hasAddresses() ? TRANSPORT_STREAM : 0));
    out[14] = (byte) ((size - FIXED) >> 8);
    out[15] = (byte) (size - FIXED);
    int at = FIXED;
    if (h.hasAddresses()) {
      byte[] s = h.source().getAddress().getAddress();
      byte[] d = h.destination().getAddress().getAddress();
      System.arraycopy(s, 0, out, at, s.length);
      System.arraycopy(d, 0, out, at + s.length, d.length);
      at += 2 * s.length;
      out[at] = (byte) (h.source().getPort() >> 8);
      out[at + 1] = (byte) h.source().getPort();
      out[at + 2] = (byte) (h.destination().getPort() >> 8);
      out[at + 3] = (byte) h.destination().getPort();
      at += 4;
    }
    writeTlvs(h.tlvs(), out, at);
    if (h.tlv(Tlv.CRC32C).isPresent()) {
      int crcAt = offsetOf(out, size, Tlv.CRC32C);
      java.util.Arrays.fill(out, crcAt + 3, crcAt + 3 + 4, (byte) 0);
      long crc = crc32c(out, size);
      out[crcAt + 3] = (byte) (crc >>> 24);
      out[crcAt + 4] = (byte) (crc >>> 16);
      out[crcAt + 5] = (byte) (crc >>> 8);
      out[crcAt + 6] = (byte) crc;
    }
    return out;
  }
}
