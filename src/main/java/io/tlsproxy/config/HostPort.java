package io.tlsproxy.config;

/**
 * A {@code host:port} pair as written in the configuration; IPv6 literals are written {@code [::1]:port}.
 */
public record HostPort(String host, int port) implements Address {

  /** Parses {@code host:port} or {@code [v6]:port}; throws {@link IllegalArgumentException} with a fix. */
  public static HostPort parse(String text) {
    String s = text.trim();
    String host;
    String port;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("expected [ipv6]:port, got '" + text + "'");
      }
      host = s.substring(1, close);
      port = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon <= 0 || s.indexOf(':') != colon) {
        throw new IllegalArgumentException("expected host:port (IPv6 as [::1]:port), got '" + text + "'");
      }
      host = s.substring(0, colon);
      port = s.substring(colon + 1);
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("missing host in '" + text + "'");
    }
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port is not a number in '" + text + "'");
    }
    if (p < 0 || p > 65535) {
      throw new IllegalArgumentException("port out of range 0-65535 in '" + text + "'");
    }
    return new HostPort(host, p);
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
