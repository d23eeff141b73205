package io.tlsproxy.proxyproto;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One type-length-value entry of a version 2 header. The value is copied in and out, so a record stays
 * immutable and comparable by content.
 */
public record Tlv(int type, byte[] value) {

  public static final int ALPN = 0x01;
  public static final int AUTHORITY = 0x02;
  public static final int CRC32C = 0x03;
  public static final int NOOP = 0x04;
  public static final int UNIQUE_ID = 0x05;
  public static final int SSL = 0x20;
  public static final int SSL_VERSION = 0x21;
  public static final int SSL_CN = 0x22;
  public static final int SSL_CIPHER = 0x23;
  public static final int SSL_SIG_ALG = 0x24;
  public static final int SSL_KEY_ALG = 0x25;
  public static final int NETNS = 0x30;
  /**
   * tlsproxy's own types, in the range the specification leaves to applications (PP2_TYPE_MIN_CUSTOM 0xE0 to
   * PP2_TYPE_MAX_CUSTOM 0xEF, section 2.2.8), sent only when {@code upstream.proxyProtocolTlvs} asks for them:
   * the client certificate as DER, and each of its URI SANs (SPIFFE IDs) and DNS SANs as UTF-8, one TLV per name
   * in the certificate's order. 0xEA (AWS) and 0xEE (Azure) are left alone, as load balancers send those.
   */
  public static final int CLIENT_CERT = 0xE0;
  public static final int CLIENT_URI = 0xE1;
  public static final int CLIENT_DNS = 0xE2;

  /** A value's length is a 16-bit field. */
  public static final int MAX_VALUE = 0xFFFF;

  public Tlv {
    if (type < 0 || type > 0xFF) {
      throw new IllegalArgumentException("TLV type must be one byte, got " + type);
    }
    if (value.length > MAX_VALUE) {
      throw new IllegalArgumentException("TLV value longer than " + MAX_VALUE + " bytes");
    }
    value = value.clone();
  }

  /** A TLV whose value is {@code text} in UTF-8 (host names, protocol names, TLS facts). */
  public static Tlv text(int type, String text) {
    return new Tlv(type, text.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public byte[] value() {
    return value.clone();
  }

  /** The value decoded as UTF-8; malformed sequences become replacement characters. */
  public String text() {
    return new String(value, StandardCharsets.UTF_8);
  }

  /** The value's length, without copying it. */
  public int length() {
    return value.length;
  }

  /** Writes the value into {@code out} at {@code at}; returns the position after it. */
  int copyValue(byte[] out, int at) {
    System.arraycopy(value, 0, out, at, value.length);
    return at + value.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tlv t && t.type == type && Arrays.equals(t.value, value);
  }

  @Override
  public int hashCode() {
    return 31 * type + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return "Tlv[type=0x" + Integer.toHexString(type) + ", value=" + HexFormat.of().formatHex(value) + "]";
  }
}
