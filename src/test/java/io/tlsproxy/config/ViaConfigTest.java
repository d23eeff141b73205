package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code upstream.via}: the egress proxy keys as users write them, and one line per mistake. */
@ExtendWith(VertxExtension.class)
class ViaConfigTest {

  @TempDir
  static Path dir;

  @Test
  void httpConnectWithCredentialsFromTheEnvironment(Vertx vertx) throws Exception {
    ViaConfig via = via(vertx, "{type: http-connect, address: 'proxy.internal:3128', username: '${PROXY_USER}', "
        + "password: '${PROXY_PASSWORD}'}", Map.of("PROXY_USER", "alice", "PROXY_PASSWORD", "s3cret"));
    assertEquals(ViaConfig.Type.HTTP_CONNECT, via.type());
    assertEquals(new HostPort("proxy.internal", 3128), via.address());
    assertEquals("alice", via.username());
    assertEquals("s3cret", via.password());
    assertEquals("listeners[0].upstream.via", via.path());
  }

  @Test
  void socks5WithoutCredentials(Vertx vertx) throws Exception {
    ViaConfig via = via(vertx, "{type: socks5, address: '[::1]:1080'}", Map.of());
    assertEquals(ViaConfig.Type.SOCKS5, via.type());
    assertEquals(new HostPort("::1", 1080), via.address());
    assertFalse(via.authenticates());
    assertEquals("socks5 [::1]:1080", via.describe());
  }

  @Test
  void withoutViaTheUpstreamIsDialledDirectly(Vertx vertx) throws Exception {
    assertNull(load(vertx, "", Map.of()).listeners().get(0).upstream().via());
  }

  @Test
  void aRouteHasItsOwnVia(Vertx vertx) throws Exception {
    Path file = Files.writeString(dir.resolve("r" + System.nanoTime() + ".yaml"), """
        listeners:
          - name: a
            listen: 127.0.0.1:0
            passthrough: true
            routes:
              - serverNames: [outside.example.com]
                upstream: {endpoints: ['outside.example.com:443'], via: {type: socks5, address: '10.0.0.1:1080'}}
            upstream: {endpoints: [127.0.0.1:80]}
        """);
    ProxyConfig c = ConfigLoader.load(vertx, file, Map.of());
    assertEquals("listeners[0].routes[0].upstream.via",
        c.listeners().get(0).routes().get(0).upstream().via().path());
    assertNull(c.listeners().get(0).upstream().via());
  }

  @Test
  void thePasswordIsNeverPrinted(Vertx vertx) throws Exception {
    ViaConfig via = via(vertx, "{type: socks5, address: 'p:1080', username: bob, password: hunter2-secret}",
        Map.of());
    assertFalse(via.toString().contains("hunter2-secret"), via.toString());
    assertFalse(via.describe().contains("hunter2-secret"), via.describe());
    assertEquals("socks5 p:1080 (user bob)", via.describe());
    assertFalse(load(vertx, ", via: {type: socks5, address: 'p:1080', username: bob, password: hunter2-secret}",
        Map.of()).toString().contains("hunter2-secret"), "the whole configuration as a string");
  }

  @Test
  void typeIsRequiredAndOneOfTheTwo(Vertx vertx) {
    assertEquals(List.of("listeners[0].upstream.via.type: missing; set it to http-connect or socks5"),
        problems(vertx, "{address: 'p:3128'}"));
    assertEquals(List.of("listeners[0].upstream.via.type: unknown value 'socks4'; use one of http-connect, "
        + "socks5"), problems(vertx, "{type: socks4, address: 'p:3128'}"));
  }

  @Test
  void addressMustBeHostAndPort(Vertx vertx) {
    assertEquals(List.of("listeners[0].upstream.via.address: missing; set it to the proxy's host:port, e.g. "
        + "proxy.internal:3128"), problems(vertx, "{type: http-connect}"));
    assertEquals(List.of("listeners[0].upstream.via.address: expected host:port (IPv6 as [::1]:port), got "
        + "'proxy.internal'"), problems(vertx, "{type: http-connect, address: proxy.internal}"));
    assertEquals(List.of("listeners[0].upstream.via.address: port 0 cannot be dialled; give the proxy's real "
        + "port"), problems(vertx, "{type: http-connect, address: 'p:0'}"));
  }

  @Test
  void usernameAndPasswordComeTogether(Vertx vertx) {
    assertEquals(List.of("listeners[0].upstream.via.password: missing; username needs a password (write it as "
        + "${VAR} to keep it out of the file), or remove username"),
        problems(vertx, "{type: socks5, address: 'p:1080', username: bob}"));
    assertEquals(List.of("listeners[0].upstream.via.username: missing; password needs a username, or remove "
        + "password"), problems(vertx, "{type: socks5, address: 'p:1080', password: x}"));
  }

  @Test
  void socks5CredentialsFitOneLengthByte(Vertx vertx) {
    String ok = "u".repeat(255);
    String tooLong = "p".repeat(256);
    assertEquals(List.of("listeners[0].upstream.via.password: is 256 bytes; SOCKS5 username/password "
        + "authentication (RFC 1929) carries at most 255"),
        problems(vertx, "{type: socks5, address: 'p:1080', username: %s, password: %s}".formatted(ok, tooLong)));
    // Bytes, not characters: 128 two-byte characters are 256 bytes.
    assertEquals(List.of("listeners[0].upstream.via.username: is 256 bytes; SOCKS5 username/password "
        + "authentication (RFC 1929) carries at most 255"),
        problems(vertx, "{type: socks5, address: 'p:1080', username: %s, password: x}".formatted("é".repeat(128))));
    assertTrue(problems(vertx, "{type: http-connect, address: 'p:3128', username: %s, password: %s}"
        .formatted(ok, tooLong)).isEmpty(), "HTTP basic authentication has no such limit");
  }

  @Test
  void basicAuthenticationCannotCarryAColonInTheUsername(Vertx vertx) {
    assertEquals(List.of("listeners[0].upstream.via.username: contains ':', which basic authentication cannot "
        + "carry (RFC 7617 section 2); use a user name without it"),
        problems(vertx, "{type: http-connect, address: 'p:3128', username: 'a:b', password: x}"));
  }

  @Test
  void unknownKeysAreErrors(Vertx vertx) {
    List<String> p = problems(vertx, "{type: socks5, address: 'p:1080', user: bob}");
    assertEquals(1, p.size(), p::toString);
    assertTrue(p.get(0).startsWith("listeners[0].upstream.via.user: unknown key"), p.get(0));
  }

  @Test
  void anUnsetVariableNamesTheKeyAndNotAValue(Vertx vertx) {
    List<String> p = problems(vertx, "{type: socks5, address: 'p:1080', username: bob, password: '${NOPE}'}");
    assertEquals(1, p.size(), p::toString);
    assertTrue(p.get(0).startsWith("listeners[0].upstream.via.password: environment variable NOPE is not set"),
        p.get(0));
  }

  @Test
  void aStrayDollarBraceDoesNotPrintThePassword(Vertx vertx) {
    List<String> p = problems(vertx, "{type: socks5, address: 'p:1080', username: bob, password: 'pa${ss'}");
    assertEquals(List.of("listeners[0].upstream.via.password: unterminated ${; write ${NAME}, or $${ for a "
        + "literal ${"), p);
  }

  private static ViaConfig via(Vertx vertx, String via, Map<String, String> env) throws Exception {
    return load(vertx, ", via: " + via, env).listeners().get(0).upstream().via();
  }

  private static List<String> problems(Vertx vertx, String via) {
    try {
      load(vertx, ", via: " + via, Map.of());
      return List.of();
    } catch (ConfigException e) {
      return e.problems();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static ProxyConfig load(Vertx vertx, String upstreamKeys, Map<String, String> env) throws Exception {
    Path file = Files.writeString(dir.resolve("c" + System.nanoTime() + ".yaml"), """
        listeners:
          - name: a
            listen: 127.0.0.1:0
            upstream: {endpoints: ['backend.internal:443']%s}
        """.formatted(upstreamKeys));
    return ConfigLoader.load(vertx, file, env);
  }
}
