package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tlsproxy.config.ServerTlsConfig.ClientAuth;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A route's own {@code clientAuth}, {@code clientCa}, {@code allow} and {@code crl}: read and checked as on the
 * listener's {@code tls}, each mistake one message naming the route's key and the fix.
 */
class RouteClientPolicyConfigTest {

  private static final String TLS = "'tls':{'certificates':[{'cert':'c.pem','key':'k.pem'}],"
      + "'clientAuth':'required','clientCa':'listener-ca.pem'}";
  private static final String UP = "'upstream':{'endpoints':['127.0.0.1:80']}";

  @Test
  void routeWithoutClientKeysInheritsTheListenersPolicy() {
    RouteConfig r = route("'serverNames':['a.example.com']," + UP);
    assertNull(r.clientPolicy());
  }

  @Test
  void routePolicyIsReadWithItsKeyPath() {
    RouteConfig r = route("'serverNames':['a.example.com'],'clientAuth':'optional','clientCa':'a-ca.pem',"
        + "'crl':'a.crl','allow':{'commonNames':['alice']}," + UP);
    ClientPolicyConfig p = r.clientPolicy();
    assertEquals(ClientAuth.OPTIONAL, p.clientAuth());
    assertEquals(Path.of("a-ca.pem"), p.clientCa());
    assertEquals(Path.of("a.crl"), p.crl());
    assertEquals(List.of("alice"), p.allow().commonNames());
    assertEquals("listeners[0].routes[0]", p.path());
    assertEquals("listeners[0].routes[0].clientCa", p.caKey());
    assertEquals(List.of(Path.of("a-ca.pem"), Path.of("a.crl")), p.files());
  }

  @Test
  void publicRouteOnAMutualTlsListenerIsValid() {
    RouteConfig r = route("'serverNames':['www.example.com'],'clientAuth':'none'," + UP);
    assertEquals(ClientAuth.NONE, r.clientPolicy().clientAuth());
  }

  @Test
  void routeNamingACaWithoutClientAuthIsRefused() {
    assertProblem("'serverNames':['a.example.com'],'clientCa':'a-ca.pem'," + UP,
        "listeners[0].routes[0].clientAuth: missing; a route that sets clientCa has a client policy of its own "
            + "and does not inherit the listener's clientAuth; set clientAuth: required (or optional, or none)");
  }

  @Test
  void routeRequiringCertificatesWithoutCaIsRefused() {
    assertProblem("'serverNames':['a.example.com'],'clientAuth':'required'," + UP,
        "listeners[0].routes[0].clientCa: missing; clientAuth required needs the CA that signs client "
            + "certificates");
  }

  @Test
  void routeAllowListWithoutClientCertificatesIsRefused() {
    assertProblem("'serverNames':['a.example.com'],'clientAuth':'none','allow':{'commonNames':['a']}," + UP,
        "listeners[0].routes[0].allow: needs clientAuth optional or required; without client certificates there "
            + "is nothing to check");
    assertProblem("'serverNames':['a.example.com'],'clientAuth':'none','crl':'a.crl'," + UP,
        "listeners[0].routes[0].crl: needs clientAuth optional or required; without client certificates there "
            + "is nothing to check");
  }

  @Test
  void routeCaWithClientAuthNoneIsRefused() {
    assertProblem("'serverNames':['a.example.com'],'clientAuth':'none','clientCa':'a-ca.pem'," + UP,
        "listeners[0].routes[0].clientCa: has no effect with clientAuth none; remove it, or set clientAuth: "
            + "required or optional");
  }

  @Test
  void routeCaFileAndSecretDirTogetherAreRefused() {
    assertProblem("'serverNames':['a.example.com'],'clientAuth':'required','clientCa':'a-ca.pem',"
            + "'clientCaSecretDir':'/run/secrets/a'," + UP,
        "listeners[0].routes[0].clientCaSecretDir: give either clientCa (a CA file) or clientCaSecretDir (a "
            + "directory with ca.crt), not both");
  }

  @Test
  void unknownClientAuthValueInRouteIsRefused() {
    ConfigException e = assertThrows(ConfigException.class, () -> read(TLS + ",'routes':[{'serverNames':"
        + "['a.example.com'],'clientAuth':'sometimes','clientCa':'a.pem'," + UP + "}]"));
    assertEquals(1, e.problems().size(), e.problems()::toString);
    assertEquals(true, e.problems().get(0).startsWith("listeners[0].routes[0].clientAuth: "),
        e.problems()::toString);
  }

  @Test
  void clientPolicyOnAPassthroughRouteIsRefused() {
    ConfigException e = assertThrows(ConfigException.class, () -> read("'passthrough':true,'routes':[{"
        + "'serverNames':['a.example.com'],'clientAuth':'required','clientCa':'a.pem'," + UP + "}]," + UP));
    assertEquals(List.of("listeners[0].routes[0].clientAuth: a passthrough listener does not terminate TLS, so "
        + "it cannot ask clients for certificates; remove it (the upstream checks client certificates), or set "
        + "passthrough: false and give the listener tls"), e.problems());
  }

  private static RouteConfig route(String body) {
    return read(TLS + ",'routes':[{" + body + "}]").listeners().get(0).routes().get(0);
  }

  private static void assertProblem(String routeBody, String expected) {
    ConfigException e = assertThrows(ConfigException.class, () -> read(TLS + ",'routes':[{" + routeBody + "}]"));
    assertEquals(List.of(expected), e.problems());
  }

  private static ProxyConfig read(String listenerBody) {
    return new ConfigReader(Map.of()).read(new JsonObject(("{'listeners':[{'name':'edge','listen':'127.0.0.1:0',"
        + listenerBody + "}]}").replace('\'', '"')));
  }
}
