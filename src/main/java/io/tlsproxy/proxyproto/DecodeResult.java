package io.tlsproxy.proxyproto;

/** What {@link ProxyHeaderDecoder#decode} found in the bytes offered so far. */
public sealed interface DecodeResult {

  /** The bytes so far are a valid beginning; offer more. */
  NeedMore NEED_MORE = new NeedMore();

  /** The bytes so far are a valid beginning of a header; nothing is decided yet. */
  record NeedMore() implements DecodeResult {
  }

  /**
   * A complete header of {@code length} bytes; bytes after it were left in the input.
   *
   * @param version 1 (text) or 2 (binary)
   */
  record Decoded(ProxyHeader header, int version, int length) implements DecodeResult {
  }

  /**
   * The first bytes are not the start of a PROXY header. The decoder consumed only the signature prefix that did
   * match ({@link ProxyHeaderDecoder#bufferedBytes()}), so the stream can be passed on untouched.
   */
  record NotProxy() implements DecodeResult {
  }

  /** A header started (its signature matched) but is malformed; {@code detail} is for logs, bounded and ASCII. */
  record Invalid(HeaderError error, String detail) implements DecodeResult {
  }
}
