package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

  @Test
  void clientIdentityTlvsAreOffUnlessListed(Vertx vertx) throws Exception {
    assertEquals(List.of(), load(vertx, "off", "v2").listeners().get(0).upstream().proxyProtocolTlvs());
    UpstreamConfig u = loadUpstream(vertx, "{endpoints: [127.0.0.1:80], proxyProtocol: v2, "
        + "proxyProtocolTlvs: [client-uris, client-cert, client-dns, client-cert]}");
    assertEquals(List.of(UpstreamConfig.ProxyProtocolTlv.CLIENT_CERT, UpstreamConfig.ProxyProtocolTlv.CLIENT_URIS,
        UpstreamConfig.ProxyProtocolTlv.CLIENT_DNS), u.proxyProtocolTlvs());
  }

  @Test
  void clientIdentityTlvsNeedVersion2AndKnownNames(Vertx vertx) {
    String needsV2 = "listeners[0].upstream.proxyProtocolTlvs: needs proxyProtocol: v2 (only version 2 headers "
        + "carry TLVs); set proxyProtocol: v2 or remove proxyProtocolTlvs";
    ConfigException e = assertThrows(ConfigException.class, () -> loadUpstream(vertx,
        "{endpoints: [127.0.0.1:80], proxyProtocol: v1, proxyProtocolTlvs: [client-cert, client-key]}"));
    assertEquals(Set.of("listeners[0].upstream.proxyProtocolTlvs[1]: unknown TLV 'client-key'; use one of "
        + "client-cert, client-uris, client-dns", needsV2), Set.copyOf(e.problems()));
    e = assertThrows(ConfigException.class, () -> loadUpstream(vertx,
        "{endpoints: [127.0.0.1:80], proxyProtocolTlvs: [client-uris]}"));
    assertEquals(List.of(needsV2), e.problems());
  }

  private static UpstreamConfig loadUpstream(Vertx vertx, String upstream) throws Exception {
    Path file = Files.writeString(dir.resolve("u" + System.nanoTime() + ".yaml"), """
        listeners:
          - name: a
            listen: 127.0.0.1:0
            upstream: %s
        """.formatted(upstream));
    return ConfigLoader.load(vertx, file, Map.of()).listeners().get(0).upstream();
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
