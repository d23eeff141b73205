package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code unix:} addresses: how they parse, and every mistake as one line naming the key and the fix. */
class UnixAddressTest {

  @Test
  void socketPathParsesAsItsOwnTypeAndPrintsAsWritten() {
    Address a = Address.parse(" unix:/run/tlsproxy/app.sock ");
    UnixAddress u = assertInstanceOf(UnixAddress.class, a);
    assertEquals("/run/tlsproxy/app.sock", u.name());
    assertEquals(Path.of("/run/tlsproxy/app.sock"), u.file());
    assertEquals("unix:/run/tlsproxy/app.sock", u.toString());
  }

  @Test
  void abstractNameHasNoFile() {
    UnixAddress u = assertInstanceOf(UnixAddress.class, Address.parse("unix:@tlsproxy-app"));
    assertTrue(u.abstractName());
    assertEquals("tlsproxy-app", u.name());
    assertNull(u.file());
    assertEquals("unix:@tlsproxy-app", u.toString());
  }

  @Test
  void hostPortStaysHostPort() {
    assertEquals(new HostPort("127.0.0.1", 8443), Address.parse("127.0.0.1:8443"));
    assertEquals(new HostPort("::1", 8443), Address.parse("[::1]:8443"));
  }

  @Test
  void longestPathThatFitsSunPathIsAccepted() {
    String path = "/" + "a".repeat(UnixAddress.MAX_BYTES - 1);
    assertEquals(path, UnixAddress.parse("unix:" + path).name());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "unix:              | nothing after 'unix:'; give a socket path such as unix:/run/tlsproxy/app.sock or an "
          + "abstract name such as unix:@app",
      "unix:@             | nothing after 'unix:@'; give a socket path such as unix:/run/tlsproxy/app.sock or an "
          + "abstract name such as unix:@app",
      "unix:app.sock      | 'app.sock' is not an absolute path; write the socket path from /, e.g. "
          + "unix:/run/tlsproxy/app.sock",
      "unix:/run/app/     | '/run/app/' names a directory; give the socket file's path, e.g. /run/app/app.sock",
  })
  void malformedUnixAddressIsExplained(String text, String message) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Address.parse(text)).getMessage());
  }

  @Test
  void pathLongerThanSunPathIsRefusedWithItsLength() {
    String path = "/" + "a".repeat(UnixAddress.MAX_BYTES);
    String m = assertThrows(IllegalArgumentException.class, () -> Address.parse("unix:" + path)).getMessage();
    assertEquals("'" + path + "' is 108 bytes long; a Unix socket path holds at most 107 bytes, use a shorter one",
        m);
  }

  @Test
  void unixListenAndEndpointAreRead() {
    ProxyConfig c = read(listener("unix:/run/tlsproxy/in.sock", "unix:/run/app/app.sock").put("socketMode", "0600"));
    ListenerConfig l = c.listeners().get(0);
    assertEquals(new UnixAddress("/run/tlsproxy/in.sock", false), l.listen());
    assertEquals(0600, l.socketMode());
    assertEquals(List.of(new UnixAddress("/run/app/app.sock", false)), l.upstream().endpoints());
  }

  @Test
  void socketModeDefaultsTo0660() {
    assertEquals(0660, read(listener("unix:/run/in.sock", "127.0.0.1:1")).listeners().get(0).socketMode());
    assertEquals(ListenerConfig.DEFAULT_SOCKET_MODE, 0660);
  }

  @Test
  void worldConnectableSocketModeIsWarned() {
    ListenerConfig l = read(listener("unix:/run/in.sock", "127.0.0.1:1").put("socketMode", "666"))
        .listeners().get(0);
    assertEquals("listeners[0].socketMode: 0666 lets every local user connect to unix:/run/in.sock; 0660 keeps "
        + "it to the owner and group", l.socketModeWarning("listeners[0]"));
    assertNull(read(listener("unix:/run/in.sock", "127.0.0.1:1")).listeners().get(0)
        .socketModeWarning("listeners[0]"));
  }

  @Test
  void socketModeBesideTcpOrAbstractNameIsRefused() {
    assertEquals(List.of("listeners[0].socketMode: only applies to a socket file (listen: unix:/path), not to "
        + "127.0.0.1:0; remove it"), problems(listener("127.0.0.1:0", "127.0.0.1:1").put("socketMode", "0660")));
    assertEquals(List.of("listeners[0].socketMode: only applies to a socket file (listen: unix:/path), not to "
        + "unix:@app; remove it"), problems(listener("unix:@app", "127.0.0.1:1").put("socketMode", "0660")));
  }

  @Test
  void unquotedSocketModeIsRefusedBecauseYamlMadeItANumber() {
    // YAML 1.1 reads 0660 unquoted as the octal number 432.
    assertEquals(List.of("listeners[0].socketMode: YAML reads an unquoted mode as a number; write it as an octal "
        + "string in quotes, e.g. \"0660\""), problems(listener("unix:/run/in.sock", "127.0.0.1:1")
        .put("socketMode", 432)));
  }

  @Test
  void socketModeThatIsNotOctalIsRefused() {
    assertEquals(List.of("listeners[0].socketMode: '0689' is not an octal mode from 0000 to 0777; write e.g. "
        + "\"0660\" (owner and group may connect) or \"0600\" (owner only)"),
        problems(listener("unix:/run/in.sock", "127.0.0.1:1").put("socketMode", "0689")));
    assertEquals(1, problems(listener("unix:/run/in.sock", "127.0.0.1:1").put("socketMode", "4755")).size());
  }

  @Test
  void badUnixListenNamesTheKey() {
    assertEquals(List.of("listeners[0].listen: 'in.sock' is not an absolute path; write the socket path from /, "
        + "e.g. unix:/run/tlsproxy/app.sock"), problems(listener("unix:in.sock", "127.0.0.1:1")));
  }

  @Test
  void badUnixEndpointNamesTheKey() {
    assertEquals(List.of("listeners[0].upstream.endpoints[0]: nothing after 'unix:'; give a socket path such as "
        + "unix:/run/tlsproxy/app.sock or an abstract name such as unix:@app"),
        problems(listener("127.0.0.1:0", "unix:")));
  }

  @Test
  void tlsToAUnixEndpointNeedsAServerNameToVerify() {
    JsonObject l = listener("127.0.0.1:0", "unix:/run/app/app.sock");
    l.getJsonObject("upstream").put("tls", new JsonObject());
    assertEquals(List.of("listeners[0].upstream.tls.serverName: missing; a Unix socket endpoint has no host name "
        + "to verify the upstream's certificate against, set serverName to a name in that certificate"),
        problems(l));
    l.getJsonObject("upstream").put("tls", new JsonObject().put("serverName", "app.internal"));
    assertEquals(List.of(), problems(l));
  }

  @Test
  void twoListenersOnOneSocketPathClash() {
    JsonArray listeners = new JsonArray().add(listener("unix:/run/in.sock", "127.0.0.1:1").put("name", "a"))
        .add(listener("unix:/run/in.sock", "127.0.0.1:1").put("name", "b"))
        .add(listener("unix:@in", "127.0.0.1:1").put("name", "c"))
        .add(listener("unix:@in", "127.0.0.1:1").put("name", "d"));
    assertEquals(List.of(
        "listeners[1].listen: unix:/run/in.sock cannot listen beside listeners[0].listen: the same socket path; "
            + "give one of them another",
        "listeners[3].listen: unix:@in cannot listen beside listeners[2].listen: the same abstract name; give one "
            + "of them another"), problemsOf(new JsonObject().put("listeners", listeners)));
  }

  @Test
  void adminEndpointStaysOnTcp() {
    JsonObject root = new JsonObject().put("admin", new JsonObject().put("listen", "unix:/run/admin.sock"))
        .put("listeners", new JsonArray().add(listener("127.0.0.1:0", "127.0.0.1:1")));
    assertEquals(List.of("admin.listen: a Unix socket is not supported here; give host:port, e.g. 127.0.0.1:9901"),
        problemsOf(root));
  }

  private static JsonObject listener(String listen, String endpoint) {
    return new JsonObject().put("name", "a").put("listen", listen)
        .put("upstream", new JsonObject().put("endpoints", new JsonArray().add(endpoint)));
  }

  private static ProxyConfig read(JsonObject listener) {
    return new ConfigReader(Map.of()).read(new JsonObject().put("listeners", new JsonArray().add(listener)));
  }

  private static List<String> problems(JsonObject listener) {
    return problemsOf(new JsonObject().put("listeners", new JsonArray().add(listener)));
  }

  private static List<String> problemsOf(JsonObject root) {
    try {
      new ConfigReader(Map.of()).read(root);
      return List.of();
    } catch (ConfigException e) {
      return e.problems();
    }
  }
}
