package io.tlsproxy.config;

import java.nio.charset.StandardCharsets;

/** Reads and checks an upstream's {@code via:} section, one rule per check. */
final class ViaReader {

  private ViaReader() {
  }

  static ViaConfig via(ConfigNode n) {
    n.allowOnly("type", "address", "username", "password");
    ViaConfig.Type type = null;
    String typeText = n.requiredString("type", "http-connect or socks5");
    if (typeText != null) {
      type = n.enumValue("type", ViaConfig.Type.class, null);
    }
    HostPort address = null;
    if (!n.has("address")) {
      n.problem("address", "missing; set it to the proxy's host:port, e.g. proxy.internal:3128");
    } else {
      address = n.hostPort("address", null);
      if (address != null && address.port() == 0) {
        n.problem("address", "port 0 cannot be dialled; give the proxy's real port");
      }
    }
    // Written values only: the messages below name keys, never a credential (which may come from ${VAR}).
    String username = n.string("username", null);
    String password = n.string("password", null);
    if (username != null && password == null) {
      n.problem("password", "missing; username needs a password (write it as ${VAR} to keep it out of the file), "
          + "or remove username");
    } else if (password != null && username == null) {
      n.problem("username", "missing; password needs a username, or remove password");
    }
    for (String key : new String[] {"username", "password"}) {
      String v = key.equals("username") ? username : password;
      if (v == null) {
        continue;
      }
      int bytes = v.getBytes(StandardCharsets.UTF_8).length;
      if (bytes == 0 && !n.reported(key)) { // not when an unset ${VAR} made it empty: that is reported
        n.problem(key, "is empty; give the proxy's " + key + ", or remove username and password");
      } else if (type == ViaConfig.Type.SOCKS5 && bytes > ViaConfig.SOCKS5_MAX_CREDENTIAL_BYTES) {
        n.problem(key, "is " + bytes + " bytes; SOCKS5 username/password authentication (RFC 1929) carries at "
            + "most " + ViaConfig.SOCKS5_MAX_CREDENTIAL_BYTES);
      }
    }
    if (type == ViaConfig.Type.HTTP_CONNECT && username != null && username.indexOf(':') >= 0) {
      n.problem("username", "contains ':', which basic authentication cannot carry (RFC 7617 section 2); use a "
          + "user name without it");
    }
    return new ViaConfig(type, address, username, password, n.path());
  }
}
