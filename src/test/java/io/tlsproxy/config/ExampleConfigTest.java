package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.ServerTlsConfig.ClientAuth;
import io.tlsproxy.config.UpstreamConfig.Balance;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The shipped configuration files are valid and mean what their comments say. */
@ExtendWith(VertxExtension.class)
class ExampleConfigTest {

  @Test
  void exampleWithEveryKeyLoadsWithTheDocumentedValues(Vertx vertx) {
    ProxyConfig c = ConfigLoader.load(vertx, Path.of("conf/example.yaml"), Map.of("P12_PASSWORD", "s3cret",
        "EGRESS_PROXY_PASSWORD", "proxy-s3cret"));
    assertEquals(new HostPort("127.0.0.1", 9901), c.admin().listen());
    assertFalse(c.admin().enableQuit(), "POST /quitquitquit is off unless enabled");
    assertEquals(Duration.ofSeconds(30), c.shutdown().drainTimeout());
    assertFalse(c.shutdown().acceptDuringDrain());
    ListenerConfig web = c.listeners().get(0);
    assertEquals("web", web.name());
    assertEquals(new HostPort("0.0.0.0", 8443), web.listen());
    assertEquals(2, web.tls().certificates().size());
    assertEquals("s3cret", web.tls().certificates().get(1).password());
    assertEquals(List.of("*.example.com", "example.com"), web.tls().certificates().get(1).serverNames());
    assertEquals(List.of("TLSv1.3", "TLSv1.2"), web.tls().policy().protocols());
    assertEquals(List.of("h2", "http/1.1"), web.tls().policy().alpn());
    assertEquals(ClientAuth.NONE, web.tls().clientAuth());
    assertEquals(Duration.ofHours(1), web.idleTimeout());
    ListenerConfig tunnel = c.listeners().get(1);
    assertNull(tunnel.tls());
    assertEquals(Balance.FAILOVER, tunnel.upstream().balance());
    assertEquals(UpstreamConfig.DEFAULT_DNS_TTL, tunnel.upstream().dnsTtl());
    assertEquals(new HealthCheckConfig(HealthCheckConfig.DEFAULT_INTERVAL, HealthCheckConfig.DEFAULT_TIMEOUT,
        HealthCheckConfig.DEFAULT_UNHEALTHY_THRESHOLD, HealthCheckConfig.DEFAULT_HEALTHY_THRESHOLD, false),
        tunnel.upstream().healthCheck());
    assertNull(web.upstream().healthCheck(), "health checks are off unless configured");
    assertEquals("db.internal", tunnel.upstream().tls().serverName());
    assertFalse(tunnel.upstream().tls().insecureSkipVerify());
    assertEquals(Duration.ofMinutes(30), tunnel.idleTimeout());
    assertEquals(Duration.ZERO, web.maxConnectionLifetime());
    assertEquals(ListenerConfig.ProxyProtocolMode.OFF, web.proxyProtocol());
    assertEquals(UpstreamConfig.ProxyProtocolVersion.V2, tunnel.upstream().proxyProtocol());
    assertEquals(UpstreamConfig.ProxyProtocolVersion.OFF, web.upstream().proxyProtocol());
    assertEquals(new LimitsConfig(10000, 2000, LimitsConfig.OverLimit.WAIT), web.limits());
    assertEquals(LimitsConfig.NONE, tunnel.limits());
    assertEquals(Duration.ofSeconds(5), c.reload().checkInterval());
    assertEquals(Duration.ofDays(14), c.reload().warnBefore());
    assertEquals(LoggingConfig.Format.TEXT, c.logging().format());
    assertEquals(LoggingConfig.Level.INFO, c.logging().level());
    assertTrue(c.logging().access());
    ListenerConfig internal = c.listeners().get(2);
    assertEquals(Path.of("/etc/tls/tls.crt"), internal.tls().certificates().get(0).cert());
    assertEquals(Path.of("/etc/tls/tls.key"), internal.tls().certificates().get(0).key());
    assertEquals(Path.of("/etc/client-ca/ca.crt"), internal.tls().clientCa());
    assertEquals(List.of("billing"), internal.tls().allow().commonNames());
    assertEquals(List.of("spiffe://prod.example/ns/billing/*", "spiffe://prod.example/ns/payments/**"),
        internal.tls().allow().uris());
    assertEquals(Path.of("/etc/client-ca/ca.crl"), internal.tls().crl());
    ClientTlsConfig up = internal.upstream().tls();
    assertEquals(Path.of("/etc/upstream-tls/tls.crt"), up.cert());
    assertEquals(Path.of("/etc/upstream-tls/ca.crt"), up.ca());
    assertEquals(List.of("spiffe://prod.example/ns/ledger/sa/ledger"), up.verifyUris());
    assertEquals(1, up.spkiSha256().size());
    assertEquals(List.of(UpstreamConfig.ProxyProtocolTlv.CLIENT_CERT, UpstreamConfig.ProxyProtocolTlv.CLIENT_URIS,
        UpstreamConfig.ProxyProtocolTlv.CLIENT_DNS), internal.upstream().proxyProtocolTlvs());
    assertEquals(List.of(), tunnel.upstream().proxyProtocolTlvs(), "no client identity unless listed");
    assertNull(web.tls().keyLogFile(), "no key log unless set");
    assertEquals(Path.of("/var/tmp/db-tunnel.keys"), tunnel.upstream().tls().keyLogFile());
    ListenerConfig edge = c.listeners().get(3);
    assertFalse(edge.passthrough());
    assertEquals(List.of("api", "db.example.com", "partner"),
        edge.routes().stream().map(RouteConfig::name).toList());
    assertEquals(List.of("api.example.com", "*.api.example.com"), edge.routes().get(0).serverNames());
    assertEquals(edge.routes().get(0).serverNames(), edge.routes().get(0).certificates().get(0).serverNames());
    assertEquals("db.internal", edge.routes().get(1).upstream().tls().serverName());
    assertNull(edge.routes().get(0).clientPolicy(), "a route without client keys inherits the listener's policy");
    ClientPolicyConfig partner = edge.routes().get(2).clientPolicy();
    assertEquals(ClientAuth.REQUIRED, partner.clientAuth());
    assertEquals(Path.of("certs/partner-ca.pem"), partner.clientCa());
    assertEquals(List.of("partner-billing"), partner.allow().commonNames());
    assertEquals("127.0.0.1:8080", edge.upstream().endpoints().get(0).toString());
    ListenerConfig app = c.listeners().get(4);
    assertEquals(List.of(new UnixAddress("/run/app/app.sock", false)), app.upstream().endpoints());
    ListenerConfig egress = c.listeners().get(5);
    assertEquals(new UnixAddress("/run/tlsproxy/egress.sock", false), egress.listen());
    assertEquals(ListenerConfig.DEFAULT_SOCKET_MODE, egress.socketMode());
    ViaConfig via = c.listeners().get(6).upstream().via();
    assertEquals(new ViaConfig(ViaConfig.Type.HTTP_CONNECT, new HostPort("proxy.corp.internal", 3128), "svc-partner",
        "proxy-s3cret", "listeners[6].upstream.via"), via);
    assertNull(edge.upstream().via(), "endpoints are dialled directly unless via is set");
    assertEquals(StartTlsProtocol.SMTP, c.listeners().get(7).upstream().tls().startTls());
    assertEquals(StartTlsProtocol.IMAP, c.listeners().get(8).tls().startTls());
    assertEquals(StartTlsProtocol.POSTGRES, c.listeners().get(9).upstream().tls().startTls());
    assertEquals(StartTlsProtocol.LDAP, c.listeners().get(10).tls().startTls());
    assertNull(web.tls().startTls(), "TLS from the first byte unless startTls says otherwise");
  }

  @Test
  void demoConfigLoads(Vertx vertx) {
    ProxyConfig c = ConfigLoader.load(vertx, Path.of("conf/tlsproxy.yaml"), Map.of());
    assertEquals(List.of("web", "tunnel"), c.listeners().stream().map(ListenerConfig::name).toList());
    assertEquals("localhost", c.listeners().get(1).upstream().tls().serverName());
  }

  @Test
  void defaultsApplyWhenKeysAreLeftOut() {
    ProxyConfig c = new ConfigReader(Map.of()).read(new JsonObject(
        "{\"listeners\":[{\"name\":\"a\",\"listen\":\"[::1]:0\",\"upstream\":{\"endpoints\":[\"[::1]:80\"]}}]}"));
    ListenerConfig a = c.listeners().get(0);
    assertEquals(new HostPort("::1", 0), a.listen());
    assertEquals("[::1]:80", a.upstream().endpoints().get(0).toString());
    assertEquals(ListenerConfig.DEFAULT_IDLE_TIMEOUT, a.idleTimeout());
    assertEquals(UpstreamConfig.DEFAULT_CONNECT_TIMEOUT, a.upstream().connectTimeout());
    assertEquals(ListenerConfig.ProxyProtocolMode.OFF, a.proxyProtocol());
    assertEquals(UpstreamConfig.ProxyProtocolVersion.OFF, a.upstream().proxyProtocol());
    assertEquals(UpstreamConfig.DEFAULT_DNS_TTL, a.upstream().dnsTtl());
    assertNull(a.upstream().healthCheck());
    assertEquals(AdminConfig.DEFAULT, c.admin());
    assertFalse(c.admin().enableQuit());
    assertEquals(ShutdownConfig.DEFAULT, c.shutdown());
    assertEquals(LimitsConfig.NONE, a.limits());
  }

  @Test
  void environmentVariablesExpandWithFallbacks() {
    ProxyConfig c = new ConfigReader(Map.of("PORT", "7443")).read(new JsonObject(
        "{\"listeners\":[{\"name\":\"a\",\"listen\":\"127.0.0.1:${PORT}\","
            + "\"upstream\":{\"endpoints\":[\"${HOST:-127.0.0.1}:80\"]}}]}"));
    assertEquals(new HostPort("127.0.0.1", 7443), c.listeners().get(0).listen());
    assertEquals(new HostPort("127.0.0.1", 80), c.listeners().get(0).upstream().endpoints().get(0));
  }
}
