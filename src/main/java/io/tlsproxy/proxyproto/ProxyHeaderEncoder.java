package io.tlsproxy.proxyproto;

/** Writes a {@link ProxyHeader} in version 1 (text) or version 2 (binary) form. */
public final class ProxyHeaderEncoder {

  private ProxyHeaderEncoder() {
  }

  /**
   * The version 1 line. TLVs cannot be expressed and are left out; a header without addresses (LOCAL or
   * UNKNOWN) becomes {@code PROXY UNKNOWN}.
   */
  public static byte[] v1(ProxyHeader header) {
    return TextHeader.encode(header);
  }

  /** The version 2 header with every TLV; a CRC32C TLV among them gets the header's checksum as its value. */
  public static byte[] v2(ProxyHeader header) {
    return BinaryHeader.encode(header);
  }

  /**
   * How many bytes a version 2 header of {@code header} still has room for: its 16-bit length field counts
   * addresses and TLVs, and each further TLV takes 3 bytes of type and length besides its value.
   */
  public static int v2Room(ProxyHeader header) {
    return BinaryHeader.MAX_BODY - BinaryHeader.bodyLength(header);
  }

  /** {@code version} 1 or 2. */
  public static byte[] encode(ProxyHeader header, int version) {
    return switch (version) {
      case 1 -> v1(header);
      case 2 -> v2(header);
      default -> throw new IllegalArgumentException("PROXY protocol version 1 or 2, not " + version);
    };
  }
}
