package io.tlsproxy.proxyproto;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Version 1: one line of US-ASCII, {@code PROXY TCP4|TCP6 src dst srcport dstport} or {@code PROXY UNKNOWN ...},
 * single spaces, ending in CRLF, at most 107 bytes including the CRLF.
 */
final class TextHeader {

  static final byte[] SIGNATURE = "PROXY ".getBytes(StandardCharsets.US_ASCII);
  static final int MAX_LENGTH = 107;

  private TextHeader() {
  }

  /** Parses {@code line[0, len)}, the whole header without its CRLF. */
  static ProxyHeader parse(byte[] line, int len) throws HeaderException {
    for (int i = 0; i < len; i++) {
      if (line[i] < 0x20 || line[i] > 0x7E) {
        throw new HeaderException(HeaderError.MALFORMED, "byte 0x" + Integer.toHexString(line[i] & 0xFF)
            + " at offset " + i + " in a version 1 header; only printable ASCII is allowed");
      }
    }
    String[] f = new String(line, 0, len, StandardCharsets.US_ASCII).split(" ", -1);
    // f[0] is "PROXY": the decoder matched the signature.
    if (f.length < 2) {
      throw new HeaderException(HeaderError.MALFORMED, "version 1 header without a protocol");
    }
    switch (f[1]) {
      case "UNKNOWN":
        // The sender could not tell; whatever follows on the line is ignored by definition.
        return ProxyHeader.unknown(List.of());
      case "TCP4":
      case "TCP6":
        break;
      default:
        throw new HeaderException(HeaderError.BAD_FAMILY, "unknown version 1 protocol '" + printable(f[1])
            + "'; expected TCP4, TCP6 or UNKNOWN");
    }
    if (f.length != 6) {
      throw new HeaderException(HeaderError.MALFORMED, "version 1 " + f[1] + " header with " + (f.length - 2)
          + " fields after the protocol, expected 4 separated by single spaces");
    }
    boolean v4 = f[1].equals("TCP4");
    InetAddress src = address(f[2], v4, "source");
    InetAddress dst = address(f[3], v4, "destination");
    int sport = port(f[4], "source");
    int dport = port(f[5], "destination");
    return new ProxyHeader(ProxyHeader.Command.PROXY, v4 ? ProxyHeader.Family.TCP4 : ProxyHeader.Family.TCP6,
        new InetSocketAddress(src, sport), new InetSocketAddress(dst, dport), List.of());
  }

  private static InetAddress address(String s, boolean v4, String which) throws HeaderException {
    byte[] b = v4 ? AddressText.ipv4(s) : AddressText.ipv6(s);
    if (b == null) {
      throw new HeaderException(HeaderError.BAD_ADDRESS, which + " address '" + printable(s) + "' is not "
          + (v4 ? "a dotted IPv4 address" : "an IPv6 address"));
    }
    try {
      return v4 ? InetAddress.getByAddress(b) : ProxyHeader.withoutScope(b);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("4 bytes are an IPv4 address", e);
    }
  }

  private static int port(String s, String which) throws HeaderException {
    int p = AddressText.port(s);
    if (p < 0) {
      throw new HeaderException(HeaderError.BAD_PORT, which + " port '" + printable(s)
          + "' is not a decimal number 0..65535 without leading zeros");
    }
    return p;
  }

  /** Header text in a message: already printable ASCII, but bounded. */
  private static String printable(String s) {
    return s.length() <= 48 ? s : s.substring(0, 48) + "...";
  }

  static byte[] encode(ProxyHeader h) {
    String line;
    if (!h.hasAddresses()) {
      line = "PROXY UNKNOWN\r\n";
    } else {
      line = "PROXY " + (h.family() == ProxyHeader.Family.TCP4 ? "TCP4 " : "TCP6 ")
          + AddressText.format(h.source().getAddress()) + ' ' + AddressText.format(h.destination().getAddress())
          + ' ' + h.source().getPort() + ' ' + h.destination().getPort() + "\r\n";
    }
    return line.getBytes(StandardCharsets.US_ASCII);
  }
}
