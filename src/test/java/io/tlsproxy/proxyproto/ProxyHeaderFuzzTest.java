package io.tlsproxy.proxyproto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated input against the decoder, with a fixed seed so that a failure can be replayed, a bounded
 * number of cases and a time limit. Whatever comes in: no exception escapes, every call returns, nothing beyond
 * the cap is held, and a header it accepts re-encodes to one it decodes the same way.
 */
class ProxyHeaderFuzzTest {

  private static final long SEED = 0x7150_7270_6f74L;
  private static final int CASES = 60_000;
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @Test
  void randomValidHeadersRoundTripThroughBothVersions() {
    Random r = new Random(SEED);
    for (int i = 0; i < 5_000; i++) {
      ProxyHeader h = randomHeader(r);
      byte[] v2 = ProxyHeaderEncoder.v2(h);
      DecodeResult.Decoded d2 = decodeInChunks(v2, r, new ProxyHeaderDecoder(16 + 65535));
      assertEquals(h, d2.header(), () -> "v2 of " + h);
      assertEquals(v2.length, d2.length());
      assertArrayEquals(v2, ProxyHeaderEncoder.v2(d2.header()));
      if (h.command() == ProxyHeader.Command.PROXY) {
        byte[] v1 = ProxyHeaderEncoder.v1(h);
        assertTrue(v1.length <= 107, () -> new String(v1));
        DecodeResult.Decoded d1 = decodeInChunks(v1, r, new ProxyHeaderDecoder());
        assertEquals(new ProxyHeader(h.command(), h.family(), h.source(), h.destination(), List.of()),
            d1.header());
      }
    }
  }

  @Test
  void noInputMakesTheDecoderThrowHangOrHoldMoreThanItsCap() {
    List<byte[]> seeds = seeds();
    assertTimeoutPreemptively(LIMIT, () -> {
      Random r = new Random(SEED);
      int decoded = 0;
      int invalid = 0;
      for (int i = 0; i < CASES; i++) {
        byte[] input = switch (i % 4) {
          case 0 -> randomBytes(r, r.nextInt(700));
          case 1 -> withSignature(r);
          case 2 -> mutate(seeds.get(r.nextInt(seeds.size())), r);
          default -> truncate(seeds.get(r.nextInt(seeds.size())), r);
        };
        int cap = r.nextBoolean() ? ProxyHeaderDecoder.DEFAULT_MAX_V2_LENGTH : 16 + r.nextInt(300);
        DecodeResult res = feed(input, r, new ProxyHeaderDecoder(cap), i);
        if (res instanceof DecodeResult.Decoded) {
          decoded++;
        } else if (res instanceof DecodeResult.Invalid) {
          invalid++;
        }
      }
      // The mix must reach both outcomes, or the mutations are not exercising the parser.
      assertTrue(decoded > CASES / 50, "decoded " + decoded);
      assertTrue(invalid > CASES / 10, "invalid " + invalid);
    });
  }

  /** Feeds {@code input} in random chunks, checking the decoder's promises after every call. */
  private static DecodeResult feed(byte[] input, Random r, ProxyHeaderDecoder d, int caseNo) {
    int at = 0;
    DecodeResult res = DecodeResult.NEED_MORE;
    try {
      while (at < input.length) {
        int n = 1 + r.nextInt(Math.min(input.length - at, 1 + r.nextInt(64)));
        ByteBuffer in = ByteBuffer.wrap(input, at, n);
        res = d.decode(in);
        int consumed = in.position() - at;
        assertTrue(d.buffered() <= d.capacity(), "buffered beyond the cap");
        if (res == DecodeResult.NEED_MORE) {
          assertEquals(n, consumed, "need-more must consume all it was given");
        }
        at += consumed;
        if (res != DecodeResult.NEED_MORE) {
          break;
        }
      }
      if (res instanceof DecodeResult.Decoded dec) {
        assertEquals(at, dec.length(), "a decoded header is exactly the bytes consumed");
        // What was accepted must encode to something that decodes the same way.
        byte[] again = ProxyHeaderEncoder.encode(dec.header(), dec.version());
        DecodeResult re = new ProxyHeaderDecoder(16 + 65535).decode(ByteBuffer.wrap(again));
        assertEquals(dec.header(), ((DecodeResult.Decoded) re).header());
      } else if (res instanceof DecodeResult.NotProxy) {
        assertEquals(d.buffered(), at, "not-proxy consumes only the matched prefix");
        assertTrue(at < 12, "prefix of " + at);
      }
      return res;
    } catch (RuntimeException | AssertionError e) {
      fail("case " + caseNo + " input " + java.util.HexFormat.of().formatHex(input), e);
      return null;
    }
  }

  private static DecodeResult.Decoded decodeInChunks(byte[] wire, Random r, ProxyHeaderDecoder d) {
    DecodeResult res = feed(wire, r, d, -1);
    if (!(res instanceof DecodeResult.Decoded dec)) {
      throw new AssertionError(res + " for " + java.util.HexFormat.of().formatHex(wire));
    }
    return dec;
  }

  private static List<byte[]> seeds() {
    Random r = new Random(SEED + 1);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      ProxyHeader h = randomHeader(r);
      out.add(ProxyHeaderEncoder.v2(h));
      out.add(ProxyHeaderEncoder.v1(h));
    }
    return out;
  }

  private static byte[] withSignature(Random r) {
    byte[] sig = r.nextBoolean() ? BinaryHeader.SIGNATURE : TextHeader.SIGNATURE;
    byte[] out = Arrays.copyOf(sig, sig.length + r.nextInt(600));
    for (int i = sig.length; i < out.length; i++) {
      // Mostly printable text after a version 1 signature, so that lines get as far as the parser.
      out[i] = sig == TextHeader.SIGNATURE && r.nextInt(10) > 0 ? (byte) " .:0123456789abcdefTCPUNKOW\r\n".charAt(
          r.nextInt(29)) : (byte) r.nextInt(256);
    }
    return out;
  }

  private static byte[] mutate(byte[] seed, Random r) {
    byte[] out = seed.clone();
    int edits = 1 + r.nextInt(4);
    for (int e = 0; e < edits; e++) {
      int at = r.nextInt(out.length);
      switch (r.nextInt(4)) {
        case 0 -> out[at] ^= (byte) (1 << r.nextInt(8));
        case 1 -> out[at] = (byte) r.nextInt(256);
        case 2 -> {
          byte[] longer = new byte[out.length + 1];
          System.arraycopy(out, 0, longer, 0, at);
          longer[at] = (byte) r.nextInt(256);
          System.arraycopy(out, at, longer, at + 1, out.length - at);
          out = longer;
        }
        default -> {
          if (out.length > 1) {
            byte[] shorter = new byte[out.length - 1];
            System.arraycopy(out, 0, shorter, 0, at);
            System.arraycopy(out, at + 1, shorter, at, out.length - at - 1);
            out = shorter;
          }
        }
      }
    }
    return out;
  }

  private static byte[] truncate(byte[] seed, Random r) {
    return Arrays.copyOf(seed, r.nextInt(seed.length + 1));
  }

  private static byte[] randomBytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  static ProxyHeader randomHeader(Random r) {
    if (r.nextInt(10) == 0) {
      return ProxyHeader.local();
    }
    List<Tlv> tlvs = new ArrayList<>();
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      switch (r.nextInt(5)) {
        case 0 -> tlvs.add(Tlv.text(Tlv.ALPN, r.nextBoolean() ? "h2" : "http/1.1"));
        case 1 -> tlvs.add(Tlv.text(Tlv.AUTHORITY, "host" + r.nextInt(1000) + ".example"));
        case 2 -> tlvs.add(SslTlv.of("TLSv1.3", "TLS_AES_256_GCM_SHA384", r.nextBoolean() ? "cn" + i : null,
            r.nextBoolean(), r.nextBoolean()).toTlv());
        case 3 -> tlvs.add(new Tlv(Tlv.CRC32C, new byte[4]));
        default -> tlvs.add(new Tlv(0xE0 + r.nextInt(16), randomBytes(r, r.nextInt(40))));
      }
    }
    if (tlvs.stream().filter(t -> t.type() == Tlv.CRC32C).count() > 1) {
      tlvs.removeIf(t -> t.type() == Tlv.CRC32C);
    }
    boolean v4 = r.nextBoolean();
    ProxyHeader h = r.nextInt(10) == 0 ? ProxyHeader.unknown(tlvs)
        : ProxyHeader.tcp(address(r, v4), address(r, v4), tlvs);
    return h.tlv(Tlv.CRC32C).isPresent() ? withCrc(h) : h;
  }

  /** The CRC value is computed by the encoder; decoding gives back the header with it filled in. */
  private static ProxyHeader withCrc(ProxyHeader h) {
    return ((DecodeResult.Decoded) new ProxyHeaderDecoder(16 + 65535)
        .decode(ByteBuffer.wrap(ProxyHeaderEncoder.v2(h)))).header();
  }

  private static InetSocketAddress address(Random r, boolean v4) {
    try {
      byte[] b = randomBytes(r, v4 ? 4 : 16);
      InetAddress a = v4 ? InetAddress.getByAddress(b) : ProxyHeader.withoutScope(b);
      return new InetSocketAddress(a, r.nextInt(65536));
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }
}
