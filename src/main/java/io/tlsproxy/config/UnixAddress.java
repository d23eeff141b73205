package io.tlsproxy.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A Unix domain socket as written in the configuration: {@code unix:/run/app/app.sock} for a socket file, or
 * {@code unix:@name} for a name in Linux's abstract namespace, which has no file and lives as long as the socket
 * bound to it (see unix(7)).
 *
 * @param name         the absolute path of the socket file, or the abstract name without its {@code @}
 * @param abstractName true for a name in the abstract namespace
 */
public record UnixAddress(String name, boolean abstractName) implements Address {

  /** How a Unix address starts in the configuration. */
  public static final String PREFIX = "unix:";
  /**
   * {@code sun_path} holds 108 bytes on Linux: a path ends with a NUL there, and an abstract name starts with one,
   * so either way 107 bytes are left (unix(7)).
   */
  public static final int MAX_BYTES = 107;

  /** Parses {@code unix:/absolute/path} or {@code unix:@name}; throws {@link IllegalArgumentException} with a fix. */
  public static UnixAddress parse(String text) {
    String s = text.trim();
    if (!s.startsWith(PREFIX)) {
      throw new IllegalArgumentException("expected unix:/path/to.sock or unix:@name, got '" + text + "'");
    }
    String rest = s.substring(PREFIX.length());
    boolean abstractName = rest.startsWith("@");
    String name = abstractName ? rest.substring(1) : rest;
    if (name.isEmpty()) {
      throw new IllegalArgumentException("nothing after '" + PREFIX + (abstractName ? "@" : "")
          + "'; give a socket path such as unix:/run/tlsproxy/app.sock or an abstract name such as unix:@app");
    }
    if (name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a NUL character in '" + text + "'; remove it");
    }
    if (!abstractName && !name.startsWith("/")) {
      throw new IllegalArgumentException("'" + name + "' is not an absolute path; write the socket path from /, "
          + "e.g. unix:/run/tlsproxy/app.sock");
    }
    if (!abstractName && name.endsWith("/")) {
      throw new IllegalArgumentException("'" + name + "' names a directory; give the socket file's path, e.g. "
          + name + "app.sock");
    }
    int bytes = name.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      throw new IllegalArgumentException("'" + name + "' is " + bytes + " bytes long; a Unix socket "
          + (abstractName ? "name" : "path") + " holds at most " + MAX_BYTES + " bytes, use a shorter one");
    }
    return new UnixAddress(name, abstractName);
  }

  /** The socket file, or null for an abstract name (it has none). */
  public Path file() {
    return abstractName ? null : Path.of(name);
  }

  /** As written in the configuration, and as logs show it. */
  @Override
  public String toString() {
    return PREFIX + (abstractName ? "@" : "") + name;
  }
}
