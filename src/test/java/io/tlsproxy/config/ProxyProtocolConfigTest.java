package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The PROXY protocol keys, read from YAML as users write them, and the one-line messages for mistakes. */
@ExtendWith(VertxExtension.class)
class ProxyProtocolConfigTest {

  @TempDir
  static Path dir;

  @Test
  void modesAndVersionsAreRead(Vertx vertx) throws Exception {
    ListenerConfig l = load(vertx, "accept", "v1").listeners().get(0);
    assertEquals(ListenerConfig.ProxyProtocolMode.ACCEPT, l.proxyProtocol());
    assertEquals(UpstreamConfig.ProxyProtocolVersion.V1, l.upstream().proxyProtocol());
    l = load(vertx, "optional", "v2").listeners().get(0);
    assertEquals(ListenerConfig.ProxyProtocolMode.OPTIONAL, l.proxyProtocol());
    assertEquals(UpstreamConfig.ProxyProtocolVersion.V2, l.upstream().proxyProtocol());
  }

  @Test
  void unquotedOffIsOffAlthoughYamlReadsItAsFalse(Vertx vertx) throws Exception {
    ListenerConfig l = load(vertx, "off", "off").listeners().get(0);
    assertEquals(ListenerConfig.ProxyProtocolMode.OFF, l.proxyProtocol());
    assertEquals(UpstreamConfig.ProxyProtocolVersion.OFF, l.upstream().proxyProtocol());
    l = load(vertx, "\"off\"", "\"off\"").listeners().get(0);
    assertEquals(ListenerConfig.ProxyProtocolMode.OFF, l.proxyProtocol());
  }

  @Test
  void unknownValuesNameTheKeyAndTheChoices(Vertx vertx) {
    ConfigException e = assertThrows(ConfigException.class, () -> load(vertx, "always", "v3"));
    assertEquals(Set.of(
        "listeners[0].proxyProtocol: unknown value 'always'; use one of off, accept, optional",
        "listeners[0].upstream.proxyProtocol: unknown value 'v3'; use one of off, v1, v2"), Set.copyOf(e.problems()));
  }

  @Test
  void trueIsRefusedBecauseItDoesNotSayWhich(Vertx vertx) {
    ConfigException e = assertThrows(ConfigException.class, () -> load(vertx, "true", "yes"));
    assertEquals(Set.of(
        "listeners[0].proxyProtocol: true does not say which; use one of off, accept, optional",
        "listeners[0].upstream.proxyProtocol: true does not say which; use one of off, v1, v2"), Set.copyOf(e.problems()));
  }

  private static ProxyConfig load(Vertx vertx, String mode, String version) throws Exception {
    Path file = Files.writeString(dir.resolve("c" + System.nanoTime() + ".yaml"), """
        listeners:
          - name: a
            listen: 127.0.0.1:0
            proxyProtocol: %s
            upstream: {endpoints: [127.0.0.1:80], proxyProtocol: %s}
        """.formatted(mode, version));
    return ConfigLoader.load(vertx, file, Map.of());
  }
}
