package io.tlsproxy.proxyproto;

/** Internal signal of a malformed header; the decoder turns it into {@link DecodeResult.Invalid}. */
final class HeaderException extends Exception {

  private final HeaderError error;

  HeaderException(HeaderError error, String detail) {
    super(detail, null, false, false);
    this.error = error;
  }

  HeaderError error() {
    return error;
  }
}
