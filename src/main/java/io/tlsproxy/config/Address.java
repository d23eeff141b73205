package io.tlsproxy.config;

/**
 * Where a listener listens or where an upstream endpoint is: a TCP {@link HostPort} or a Unix domain socket
 * ({@link UnixAddress}, written {@code unix:/path} or {@code unix:@name}).
 */
public sealed interface Address permits HostPort, UnixAddress {

  /** Parses either form; throws {@link IllegalArgumentException} with a fix. */
  static Address parse(String text) {
    String s = text.trim();
    return s.startsWith(UnixAddress.PREFIX) ? UnixAddress.parse(s) : HostPort.parse(s);
  }
}
