package io.tlsproxy.proxyproto;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * Strict parsing and writing of the textual addresses and ports of a version 1 header. Hand-written rather than
 * {@code InetAddress.getByName}, which would try a DNS look-up for anything that is not a literal.
 */
final class AddressText {

  private AddressText() {
  }

  /** Four decimal octets without leading zeros, or null. */
  static byte[] ipv4(String s) {
    byte[] out = new byte[4];
    int part = 0;
    int start = 0;
    for (int i = 0; i <= s.length(); i++) {
      if (i == s.length() || s.charAt(i) == '.') {
        int v = decimal(s, start, i, 255);
        if (v < 0 || part == 4) {
          return null;
        }
        out[part++] = (byte) v;
        start = i + 1;
      }
    }
    return part == 4 ? out : null;
  }

  /** RFC 4291 section 2.2 text (hex groups, one {@code ::}, a dotted IPv4 tail), without zone, or null. */
  static byte[] ipv6(String s) {
    if (s.length() < 2 || s.length() > 45) {
      return null;
    }
    int gap = s.indexOf("::");
    if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
      return null;
    }
    byte[] head = new byte[16];
    byte[] tail = new byte[16];
    int headLen;
    int tailLen = 0;
    if (gap < 0) {
      headLen = groups(s, head, true);
      return headLen == 16 ? head : null;
    }
    headLen = gap == 0 ? 0 : groups(s.substring(0, gap), head, false);
    String rest = s.substring(gap + 2);
    if (!rest.isEmpty()) {
      tailLen = groups(rest, tail, true);
    }
    if (headLen < 0 || tailLen < 0 || headLen + tailLen > 14) {
      return null;
    }
    byte[] out = new byte[16];
    System.arraycopy(head, 0, out, 0, headLen);
    System.arraycopy(tail, 0, out, 16 - tailLen, tailLen);
    return out;
  }

  /** Colon-separated hex groups into {@code out}; the last may be dotted IPv4 when allowed. Bytes written or -1. */
  private static int groups(String s, byte[] out, boolean ipv4Tail) {
    int n = 0;
    int start = 0;
    for (int i = 0; i <= s.length(); i++) {
      if (i < s.length() && s.charAt(i) != ':') {
        continue;
      }
      String g = s.substring(start, i);
      if (i == s.length() && ipv4Tail && g.indexOf('.') >= 0) {
        byte[] v4 = ipv4(g);
        if (v4 == null || n + 4 > 16) {
          return -1;
        }
        System.arraycopy(v4, 0, out, n, 4);
        return n + 4;
      }
      int v = hexGroup(g);
      if (v < 0 || n + 2 > 16) {
        return -1;
      }
      out[n++] = (byte) (v >> 8);
      out[n++] = (byte) v;
      start = i + 1;
    }
    return n;
  }

  private static int hexGroup(String g) {
    if (g.isEmpty() || g.length() > 4) {
      return -1;
    }
    int v = 0;
    for (int i = 0; i < g.length(); i++) {
      int d = Character.digit(g.charAt(i), 16);
      if (d < 0 || g.charAt(i) > 'f') {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  /** A port: decimal 0..65535 without leading zeros, or -1. */
  static int port(String s) {
    return decimal(s, 0, s.length(), 65535);
  }

  /** {@code s[from, to)} as a decimal number up to {@code max}, no sign, no leading zero; -1 when it is not. */
  private static int decimal(String s, int from, int to, int max) {
    int len = to - from;
    if (len < 1 || len > 5 || len > 1 && s.charAt(from) == '0') {
      return -1;
    }
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v <= max ? v : -1;
  }

  /** Dotted IPv4, or eight hex groups for IPv6 (never a zone, which the protocol has no room for). */
  static String format(InetAddress a) {
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      return (b[0] & 0xFF) + "." + (b[1] & 0xFF) + "." + (b[2] & 0xFF) + "." + (b[3] & 0xFF);
    }
    StringBuilder s = new StringBuilder(39);
    for (int i = 0; i < 16; i += 2) {
      if (i > 0) {
        s.append(':');
      }
      s.append(Integer.toHexString(((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF)));
    }
    return s.toString();
  }
}
