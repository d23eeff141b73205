package io.tlsproxy.config;

/**
 * An egress proxy that an upstream's connections (and its health checks) go through: an HTTP proxy asked with
 * {@code CONNECT host:port} (RFC 9110 section 9.3.6) or a SOCKS5 proxy (RFC 1928). The TLS to the endpoint runs
 * inside the tunnel, so the proxy sees only ciphertext and the endpoint's own name is verified as without it.
 *
 * @param type     which protocol the proxy speaks
 * @param address  the proxy's {@code host:port}
 * @param username sent with {@code password} (HTTP basic authentication, or SOCKS5 username/password as in
 *                 RFC 1929); both null when the proxy asks for no credentials
 * @param password never printed: {@link #toString()} and {@link #describe()} leave it out
 * @param path     the key path, for messages
 */
public record ViaConfig(Type type, HostPort address, String username, String password, String path) {

  /** RFC 1929 section 2: ULEN and PLEN are one byte each, and at least 1. */
  public static final int SOCKS5_MAX_CREDENTIAL_BYTES = 255;

  /** The protocol spoken to the proxy. */
  public enum Type {
    HTTP_CONNECT("http-connect"), SOCKS5("socks5");

    private final String key;

    Type(String key) {
      this.key = key;
    }

    /** As written in the configuration. */
    public String key() {
      return key;
    }
  }

  public boolean authenticates() {
    return username != null;
  }

  /** {@code socks5 proxy.internal:1080 (user alice)}: for logs and {@code --check}, without the password. */
  public String describe() {
    return type.key() + " " + address + (authenticates() ? " (user " + username + ")" : "");
  }

  @Override
  public String toString() {
    return "ViaConfig[" + describe() + (password != null ? ", password ****" : "") + ", " + path + "]";
  }
}
