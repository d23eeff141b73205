package io.tlsproxy.proxyproto;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Reads one PROXY header (version 1 or 2) from the start of a stream, fed in pieces as they arrive. It takes
 * from each piece only the bytes of the header, so what follows stays in the caller's buffer; it never holds
 * more than its cap; and once it has answered with a header, an error or {@link DecodeResult.NotProxy}, it gives
 * the same answer again and consumes nothing more. Not thread-safe: one decoder per connection.
 */
public final class ProxyHeaderDecoder {

  /**
   * The default cap of a version 2 header: the 16 fixed bytes and 1024 more, room for IPv6 addresses and the
   * TLVs of a TLS connection (host name, ALPN, version, cipher, client certificate name).
   */
  public static final int DEFAULT_MAX_V2_LENGTH = BinaryHeader.FIXED + 1024;

  private enum State { DETECT, V1_LINE, V2_FIXED, V2_BODY, DONE }

  private final int maxV2Length;
  private final byte[] buf;
  private int len;
  private State state = State.DETECT;
  private byte[] signature;
  private boolean committed;
  private int v2Length;
  private DecodeResult result;

  public ProxyHeaderDecoder() {
    this(DEFAULT_MAX_V2_LENGTH);
  }

  /** {@code maxV2Length}: the longest version 2 header accepted, fixed part included (16..65551). */
  public ProxyHeaderDecoder(int maxV2Length) {
    if (maxV2Length < BinaryHeader.FIXED || maxV2Length > BinaryHeader.FIXED + 0xFFFF) {
      throw new IllegalArgumentException("maxV2Length must be 16..65551, got " + maxV2Length);
    }
    this.maxV2Length = maxV2Length;
    this.buf = new byte[Math.max(TextHeader.MAX_LENGTH, maxV2Length)];
  }

  /** The most bytes this decoder ever holds. */
  public int capacity() {
    return buf.length;
  }

  /** Bytes of the header consumed so far. */
  public int buffered() {
    return len;
  }

  /** A copy of the bytes consumed so far: after {@link DecodeResult.NotProxy}, what must be passed on first. */
  public byte[] bufferedBytes() {
    return Arrays.copyOf(buf, len);
  }

  /**
   * True once a whole signature matched: the stream claims to carry a header, so an incomplete one is an error
   * rather than ordinary data that happened to start like one.
   */
  public boolean committed() {
    return committed;
  }

  /** Consumes header bytes from {@code in} (from its position; advances it) and says what they are so far. */
  public DecodeResult decode(ByteBuffer in) {
    while (result == null && in.hasRemaining()) {
      switch (state) {
        case DETECT -> detect(in);
        case V1_LINE -> line(in);
        case V2_FIXED -> fill(in, BinaryHeader.FIXED);
        case V2_BODY -> fill(in, v2Length);
        default -> throw new IllegalStateException(state.name());
      }
    }
    return result != null ? result : DecodeResult.NEED_MORE;
  }

  private void detect(ByteBuffer in) {
    byte b = in.get(in.position());
    if (len == 0) {
      signature = b == TextHeader.SIGNATURE[0] ? TextHeader.SIGNATURE
          : b == BinaryHeader.SIGNATURE[0] ? BinaryHeader.SIGNATURE : null;
    }
    if (signature == null || signature[len] != b) {
      // Left unconsumed: the caller passes the matched prefix and everything from here on untouched.
      finish(new DecodeResult.NotProxy());
      return;
    }
    buf[len++] = in.get();
    if (len == signature.length) {
      committed = true;
      state = signature == TextHeader.SIGNATURE ? State.V1_LINE : State.V2_FIXED;
    }
  }

  private void line(ByteBuffer in) {
    byte b = in.get();
    buf[len++] = b;
    if (b == '\n') {
      if (buf[len - 2] != '\r') {
        fail(HeaderError.MALFORMED, "version 1 header ends in LF without CR");
        return;
      }
      try {
        finish(new DecodeResult.Decoded(TextHeader.parse(buf, len - 2), 1, len));
      } catch (HeaderException e) {
        fail(e.error(), e.getMessage());
      }
    } else if (len >= 2 && buf[len - 2] == '\r') {
      fail(HeaderError.MALFORMED, "CR not followed by LF in a version 1 header");
    } else if (len == TextHeader.MAX_LENGTH) {
      fail(HeaderError.TOO_LONG, "no CRLF within " + TextHeader.MAX_LENGTH + " bytes of a version 1 header");
    }
  }

  /** Copies bytes until {@code target} are buffered, then checks the fixed part or the whole header. */
  private void fill(ByteBuffer in, int target) {
    int n = Math.min(target - len, in.remaining());
    in.get(buf, len, n);
    len += n;
    if (len < target) {
      return;
    }
    try {
      if (state == State.V2_FIXED) {
        int body = BinaryHeader.checkFixed(buf);
        v2Length = BinaryHeader.FIXED + body;
        if (v2Length > maxV2Length) {
          fail(HeaderError.TOO_LONG, "version 2 header of " + v2Length + " bytes, more than the " + maxV2Length
              + " accepted");
        } else if (body == 0) {
          finish(new DecodeResult.Decoded(BinaryHeader.parse(buf, len), 2, len));
        } else {
          state = State.V2_BODY;
        }
      } else {
        finish(new DecodeResult.Decoded(BinaryHeader.parse(buf, len), 2, len));
      }
    } catch (HeaderException e) {
      fail(e.error(), e.getMessage());
    }
  }

  private void fail(HeaderError error, String detail) {
    finish(new DecodeResult.Invalid(error, detail));
  }

  private void finish(DecodeResult r) {
    result = r;
    state = State.DONE;
  }
}
