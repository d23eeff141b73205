package io.tlsproxy.proxyproto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Known byte vectors built from the specification, every malformed case, and how input is consumed. */
class ProxyHeaderDecoderTest {

  private static final String SIG = "0d0a0d0a000d0a515549540a";

  @Test
  void version1Tcp4LineDecodesToItsAddresses() throws Exception {
    DecodeResult.Decoded d = decoded(ascii("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"));
    assertEquals(1, d.version());
    assertEquals(45, d.length());
    assertEquals(ProxyHeader.Family.TCP4, d.header().family());
    assertEquals(addr("192.0.2.1", 56324), d.header().source());
    assertEquals(addr("198.51.100.2", 443), d.header().destination());
  }

  @Test
  void version1Tcp6LineAcceptsCompressedAndDottedForms() throws Exception {
    ProxyHeader h = decoded(ascii("PROXY TCP6 2001:db8::1 ::ffff:198.51.100.2 1 65535\r\n")).header();
    assertEquals(ProxyHeader.Family.TCP6, h.family());
    assertArrayEquals(HexFormat.of().parseHex("20010db8000000000000000000000001"), h.source().getAddress()
        .getAddress());
    assertArrayEquals(HexFormat.of().parseHex("00000000000000000000ffffc6336402"), h.destination().getAddress()
        .getAddress());
    assertEquals(65535, h.destination().getPort());
  }

  @ParameterizedTest
  @ValueSource(strings = {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n",
      "PROXY UNKNOWN anything at all\r\n"})
  void version1UnknownCarriesNoAddressesAndIgnoresTheRest(String line) {
    ProxyHeader h = decoded(ascii(line)).header();
    assertEquals(ProxyHeader.Family.UNKNOWN, h.family());
    assertFalse(h.hasAddresses());
  }

  @Test
  void version2Tcp4VectorDecodesAndEncodesToTheSameBytes() throws Exception {
    byte[] wire = hex(SIG + "21" + "11" + "000c" + "c0000201" + "c6336402" + "dc04" + "01bb");
    DecodeResult.Decoded d = decoded(wire);
    assertEquals(2, d.version());
    assertEquals(28, d.length());
    ProxyHeader expected = ProxyHeader.tcp(addr("192.0.2.1", 56324), addr("198.51.100.2", 443), List.of());
    assertEquals(expected, d.header());
    assertArrayEquals(wire, ProxyHeaderEncoder.v2(expected));
  }

  @Test
  void version2LocalVectorCarriesNoAddresses() {
    byte[] wire = hex(SIG + "20" + "00" + "0000");
    ProxyHeader h = decoded(wire).header();
    assertEquals(ProxyHeader.Command.LOCAL, h.command());
    assertFalse(h.hasAddresses());
    assertArrayEquals(wire, ProxyHeaderEncoder.v2(ProxyHeader.local()));
  }

  @Test
  void version2LocalSkipsWhateverBlockFollows() {
    ProxyHeader h = decoded(hex(SIG + "20" + "11" + "0003" + "ffffff")).header();
    assertEquals(ProxyHeader.Command.LOCAL, h.command());
  }

  @Test
  void version2Tcp6VectorWithAlpnAuthorityAndSslTlvs() {
    String ssl = "07" + "00000000" + "2100" + "07" + hexOf("TLSv1.3") + "2300" + "16" + hexOf("TLS_AES_128_GCM_SHA256")
        + "2200" + "05" + hexOf("alice");
    int sslLen = ssl.length() / 2;
    String tlvs = "0100" + "02" + hexOf("h2") + "0200" + "0b" + hexOf("example.com") + "20"
        + String.format("%04x", sslLen) + ssl;
    int body = 36 + tlvs.length() / 2;
    byte[] wire = hex(SIG + "21" + "21" + String.format("%04x", body) + "20010db8000000000000000000000001"
        + "20010db8000000000000000000000002" + "04d2" + "01bb" + tlvs);
    ProxyHeader h = decoded(wire).header();
    assertEquals(ProxyHeader.Family.TCP6, h.family());
    assertEquals("h2", h.alpn().orElseThrow());
    assertEquals("example.com", h.authority().orElseThrow());
    SslTlv s = h.ssl().orElseThrow();
    assertEquals(SslTlv.CLIENT_SSL | SslTlv.CLIENT_CERT_CONN | SslTlv.CLIENT_CERT_SESS, s.client());
    assertEquals(0, s.verify());
    assertEquals("TLSv1.3", s.version().orElseThrow());
    assertEquals("TLS_AES_128_GCM_SHA256", s.cipher().orElseThrow());
    assertEquals("alice", s.commonName().orElseThrow());
    ProxyHeader built = ProxyHeader.tcp(h.source(), h.destination(), List.of(Tlv.text(Tlv.ALPN, "h2"),
        Tlv.text(Tlv.AUTHORITY, "example.com"),
        SslTlv.of("TLSv1.3", "TLS_AES_128_GCM_SHA256", "alice", true, true).toTlv()));
    assertArrayEquals(wire, ProxyHeaderEncoder.v2(built));
  }

  @Test
  void version2UnixAndDatagramFamiliesDecodeAsUnknownWithTheirTlvs() {
    byte[] unix = new byte[216];
    ProxyHeader u = decoded(hex(SIG + "21" + "31" + "00dc" + HexFormat.of().formatHex(unix) + "0400" + "01"
        + "00")).header();
    assertEquals(ProxyHeader.Family.UNKNOWN, u.family());
    assertEquals(1, u.tlvs().size());
    ProxyHeader udp = decoded(hex(SIG + "21" + "12" + "000c" + "c0000201c6336402dc0401bb")).header();
    assertEquals(ProxyHeader.Family.UNKNOWN, udp.family());
  }

  @Test
  void checksumTlvIsFilledInByTheEncoderAndVerifiedByTheDecoder() {
    ProxyHeader h = ProxyHeader.tcp(addr("192.0.2.1", 1), addr("192.0.2.2", 2),
        List.of(new Tlv(Tlv.CRC32C, new byte[4]), Tlv.text(Tlv.UNIQUE_ID, "abc")));
    byte[] wire = ProxyHeaderEncoder.v2(h);
    assertInstanceOf(DecodeResult.Decoded.class, decodeAll(wire));
    wire[wire.length - 1] ^= 1;
    assertInvalid(wire, HeaderError.BAD_CHECKSUM);
  }

  @Test
  void bytesAfterTheHeaderStayInTheInput() {
    byte[] header = ascii("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n");
    ByteBuffer in = ByteBuffer.wrap(concat(header, new byte[] {0x16, 0x03, 0x01}));
    ProxyHeaderDecoder d = new ProxyHeaderDecoder();
    assertInstanceOf(DecodeResult.Decoded.class, d.decode(in));
    assertEquals(header.length, in.position());
    assertEquals(3, in.remaining());
    DecodeResult again = d.decode(in);
    assertInstanceOf(DecodeResult.Decoded.class, again);
    assertEquals(3, in.remaining(), "a finished decoder consumes nothing more");
  }

  @Test
  void headerFedOneByteAtATimeDecodesTheSame() {
    byte[] wire = ProxyHeaderEncoder.v2(ProxyHeader.tcp(addr("192.0.2.1", 1), addr("192.0.2.2", 2),
        List.of(Tlv.text(Tlv.AUTHORITY, "a.example"))));
    ProxyHeaderDecoder d = new ProxyHeaderDecoder();
    for (int i = 0; i < wire.length - 1; i++) {
      assertSame(DecodeResult.NEED_MORE, d.decode(ByteBuffer.wrap(wire, i, 1)));
      assertTrue(d.committed() || i < 11, "committed after the signature");
    }
    DecodeResult.Decoded r = assertInstanceOf(DecodeResult.Decoded.class,
        d.decode(ByteBuffer.wrap(wire, wire.length - 1, 1)));
    assertEquals("a.example", r.header().authority().orElseThrow());
  }

  // ---- not a header -----------------------------------------------------------------------------------------

  @Test
  void tlsClientHelloIsNotAHeaderAndNothingIsConsumed() {
    ProxyHeaderDecoder d = new ProxyHeaderDecoder();
    ByteBuffer in = ByteBuffer.wrap(new byte[] {0x16, 0x03, 0x01, 0x00});
    assertInstanceOf(DecodeResult.NotProxy.class, d.decode(in));
    assertEquals(0, in.position());
    assertEquals(0, d.buffered());
    assertFalse(d.committed());
  }

  @ParameterizedTest
  @CsvSource({"50524f585a, 4", "474554202f, 0", "0d0a0d0a000d0a5155495820, 10", "0d0a0d0a0a, 4"})
  void signatureMismatchIsNotAHeaderAndGivesBackTheMatchedPrefix(String input, int prefix) {
    ProxyHeaderDecoder d = new ProxyHeaderDecoder();
    byte[] bytes = hex(input);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    assertInstanceOf(DecodeResult.NotProxy.class, d.decode(in));
    assertEquals(prefix, in.position(), "only the matching prefix is consumed");
    assertArrayEquals(java.util.Arrays.copyOf(bytes, prefix), d.bufferedBytes());
    assertFalse(d.committed());
  }

  // ---- malformed version 2 ----------------------------------------------------------------------------------

  @ParameterizedTest
  @CsvSource({
      "11, 11, 000c, BAD_VERSION", "31, 11, 000c, BAD_VERSION", "01, 11, 000c, BAD_VERSION",
      "22, 11, 000c, BAD_COMMAND", "2f, 11, 000c, BAD_COMMAND",
      "21, 41, 000c, BAD_FAMILY", "21, 13, 000c, BAD_FAMILY", "21, f1, 000c, BAD_FAMILY"})
  void malformedFixedPartIsRefusedAfterSixteenBytes(String verCmd, String fam, String len, HeaderError error) {
    ProxyHeaderDecoder d = new ProxyHeaderDecoder();
    DecodeResult r = d.decode(ByteBuffer.wrap(hex(SIG + verCmd + fam + len + "c0000201c6336402dc0401bb")));
    assertEquals(error, assertInstanceOf(DecodeResult.Invalid.class, r).error());
    assertEquals(16, d.buffered());
  }

  @Test
  void lengthOverTheCapIsRefusedWithoutWaitingForTheBody() {
    ProxyHeaderDecoder d = new ProxyHeaderDecoder(64);
    ByteBuffer in = ByteBuffer.wrap(hex(SIG + "21" + "11" + "0031" + "00".repeat(60)));
    DecodeResult.Invalid r = assertInstanceOf(DecodeResult.Invalid.class, d.decode(in));
    assertEquals(HeaderError.TOO_LONG, r.error());
    assertEquals(16, in.position());
    assertInvalid(hex(SIG + "21" + "11" + "ffff"), HeaderError.TOO_LONG);
  }

  @Test
  void headerExactlyAtTheCapIsAccepted() {
    ProxyHeaderDecoder d = new ProxyHeaderDecoder(16 + 12 + 3 + 5);
    byte[] wire = hex(SIG + "21" + "11" + "0014" + "c0000201c6336402dc0401bb" + "0400" + "05" + "0000000000");
    assertInstanceOf(DecodeResult.Decoded.class, d.decode(ByteBuffer.wrap(wire)));
  }

  @ParameterizedTest
  @CsvSource({
      "21, 11, 0008, c0000201c6336402, BAD_ADDRESS",
      "21, 21, 000c, c0000201c6336402dc0401bb, BAD_ADDRESS",
      "21, 31, 0010, 00000000000000000000000000000000, BAD_ADDRESS",
      "21, 11, 000e, c0000201c6336402dc0401bb0400, BAD_TLV",
      "21, 11, 0011, c0000201c6336402dc0401bb04000501, BAD_TLV",
      "21, 11, 0013, c0000201c6336402dc0401bb200004000000ff, BAD_TLV",
      "21, 11, 0018, c0000201c6336402dc0401bb2000090700000000210005, BAD_TLV",
      "21, 11, 0013, c0000201c6336402dc0401bb03000100, BAD_TLV"})
  void malformedBodyIsRefused(String verCmd, String fam, String len, String body, HeaderError error) {
    byte[] wire = hex(SIG + verCmd + fam + len + body);
    // Pad a declared length longer than the body given with zeros, so that the body is complete.
    int declared = Integer.parseInt(len, 16);
    wire = java.util.Arrays.copyOf(wire, 16 + declared);
    assertInvalid(wire, error);
  }

  // ---- malformed version 1 ----------------------------------------------------------------------------------

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "PROXY TCP4 256.0.0.1 198.51.100.2 1 2|BAD_ADDRESS",
      "PROXY TCP4 01.2.3.4 198.51.100.2 1 2|BAD_ADDRESS",
      "PROXY TCP4 1.2.3 198.51.100.2 1 2|BAD_ADDRESS",
      "PROXY TCP4 1.2.3.4.5 198.51.100.2 1 2|BAD_ADDRESS",
      "PROXY TCP4 host.example 198.51.100.2 1 2|BAD_ADDRESS",
      "PROXY TCP4 2001:db8::1 198.51.100.2 1 2|BAD_ADDRESS",
      "PROXY TCP6 192.0.2.1 2001:db8::2 1 2|BAD_ADDRESS",
      "PROXY TCP6 2001:db8::1::2 2001:db8::2 1 2|BAD_ADDRESS",
      "PROXY TCP6 2001:db8:0:0:0:0:0:0:1 ::2 1 2|BAD_ADDRESS",
      "PROXY TCP6 fe80::1%eth0 ::2 1 2|BAD_ADDRESS",
      "PROXY TCP6 12345::1 ::2 1 2|BAD_ADDRESS",
      "PROXY TCP4 192.0.2.1 198.51.100.2 65536 2|BAD_PORT",
      "PROXY TCP4 192.0.2.1 198.51.100.2 1 080|BAD_PORT",
      "PROXY TCP4 192.0.2.1 198.51.100.2 -1 2|BAD_PORT",
      "PROXY TCP4 192.0.2.1 198.51.100.2 1 0x50|BAD_PORT",
      "PROXY TCP4 192.0.2.1 198.51.100.2 1  2|MALFORMED",
      "PROXY TCP4 192.0.2.1 198.51.100.2 1|MALFORMED",
      "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3|MALFORMED",
      "'PROXY TCP4 192.0.2.1 198.51.100.2 1 2 '|MALFORMED",
      "'PROXY '|BAD_FAMILY",
      "PROXY TCP5 192.0.2.1 198.51.100.2 1 2|BAD_FAMILY",
      "PROXY tcp4 192.0.2.1 198.51.100.2 1 2|BAD_FAMILY"})
  void malformedVersion1LineIsRefused(String line, HeaderError error) {
    assertInvalid(ascii(line + "\r\n"), error);
  }

  @Test
  void version1WithoutCrlfWithin107BytesIsTooLong() {
    byte[] long1 = ascii("PROXY UNKNOWN " + "x".repeat(200));
    ProxyHeaderDecoder d = new ProxyHeaderDecoder();
    ByteBuffer in = ByteBuffer.wrap(long1);
    assertEquals(HeaderError.TOO_LONG, assertInstanceOf(DecodeResult.Invalid.class, d.decode(in)).error());
    assertEquals(107, in.position());
    assertEquals(107, d.buffered());
    // 107 bytes with the CRLF is the longest line there may be.
    byte[] longest = ascii("PROXY UNKNOWN " + "x".repeat(107 - 16) + "\r\n");
    assertEquals(107, longest.length);
    assertInstanceOf(DecodeResult.Decoded.class, decodeAll(longest));
  }

  @Test
  void version1LineEndingsOtherThanCrlfAreMalformed() {
    assertInvalid(ascii("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n"), HeaderError.MALFORMED);
    assertInvalid(ascii("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rX\n"), HeaderError.MALFORMED);
    assertInvalid(ascii("PROXY TCP4 192.0.2.1\t198.51.100.2 1 2\r\n"), HeaderError.MALFORMED);
    assertInvalid(concat(ascii("PROXY UNKNOWN "), new byte[] {(byte) 0xc3, (byte) 0xa9, '\r', '\n'}),
        HeaderError.MALFORMED);
  }

  @Test
  void truncatedHeadersNeedMoreAndAreCommitted() {
    byte[] v1 = ascii("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n");
    byte[] v2 = hex(SIG + "21" + "11" + "000c" + "c0000201c6336402dc0401bb");
    for (byte[] wire : List.of(v1, v2)) {
      for (int cut = 1; cut < wire.length; cut++) {
        ProxyHeaderDecoder d = new ProxyHeaderDecoder();
        assertSame(DecodeResult.NEED_MORE, d.decode(ByteBuffer.wrap(wire, 0, cut)), "cut at " + cut);
        assertEquals(cut, d.buffered());
        assertEquals(cut >= (wire == v1 ? 6 : 12), d.committed(), "cut at " + cut);
      }
    }
  }

  @Test
  void capacityIsTheLargerOfTheVersion1LimitAndTheVersion2Cap() {
    assertEquals(107, new ProxyHeaderDecoder(16).capacity());
    assertEquals(ProxyHeaderDecoder.DEFAULT_MAX_V2_LENGTH, new ProxyHeaderDecoder().capacity());
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  static DecodeResult decodeAll(byte[] wire) {
    return new ProxyHeaderDecoder().decode(ByteBuffer.wrap(wire));
  }

  private static DecodeResult.Decoded decoded(byte[] wire) {
    DecodeResult r = decodeAll(wire);
    return assertInstanceOf(DecodeResult.Decoded.class, r, r::toString);
  }

  private static void assertInvalid(byte[] wire, HeaderError error) {
    DecodeResult r = decodeAll(wire);
    DecodeResult.Invalid i = assertInstanceOf(DecodeResult.Invalid.class, r, r::toString);
    assertEquals(error, i.error(), i.detail());
    assertTrue(i.detail().chars().allMatch(c -> c >= 0x20 && c < 0x7f), i.detail());
  }

  private static InetSocketAddress addr(String ip, int port) {
    try {
      return new InetSocketAddress(InetAddress.getByName(ip), port);
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] hex(String s) {
    return HexFormat.of().parseHex(s);
  }

  private static String hexOf(String s) {
    return HexFormat.of().formatHex(ascii(s));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(a);
    out.writeBytes(b);
    return out.toByteArray();
  }
}
