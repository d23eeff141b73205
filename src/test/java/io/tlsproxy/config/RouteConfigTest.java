package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules of {@code routes} and {@code passthrough}: each mistake is one message naming its key and the fix. */
class RouteConfigTest {

  private static final String TLS = "'tls':{'certificates':[{'cert':'c.pem','key':'k.pem'}]}";
  private static final String UP = "'upstream':{'endpoints':['127.0.0.1:80']}";

  @Test
  void routesAreReadWithNamesLowerCasedAndDefaultRouteNames() {
    ListenerConfig l = listener(TLS + ",'routes':["
        + "{'serverNames':['API.Example.com.','*.api.example.com'],'certificates':[{'cert':'a.pem','key':'a.key'}],"
        + UP + "},{'name':'db','serverNames':['db.example.com'],'upstream':{'endpoints':['db:5432'],"
        + "'balance':'round-robin','connectTimeout':'2s','tls':{'serverName':'db.internal'}}}]");
    assertNull(l.upstream());
    assertFalse(l.passthrough());
    RouteConfig api = l.routes().get(0);
    assertEquals("api.example.com", api.name());
    assertEquals(List.of("api.example.com", "*.api.example.com"), api.serverNames());
    assertEquals(api.serverNames(), api.certificates().get(0).serverNames(),
        "a route's certificate answers the route's names");
    RouteConfig db = l.routes().get(1);
    assertEquals("db", db.name());
    assertEquals(UpstreamConfig.Balance.ROUND_ROBIN, db.upstream().balance());
    assertEquals("db.internal", db.upstream().tls().serverName());
    assertEquals("listeners[0].routes[1]", db.path());
  }

  @Test
  void passthroughListenerWithRoutesAndDefaultIsValid() {
    ListenerConfig l = listener("'passthrough':true,'routes':[{'serverNames':['a.example.com']," + UP + "}],"
        + UP);
    assertTrue(l.passthrough());
    assertNull(l.tls());
    assertEquals(1, l.routes().size());
  }

  @Test
  void duplicateServerNameAcrossRoutesIsRefused() {
    assertProblem(TLS + ",'routes':[{'serverNames':['a.example.com']," + UP + "},"
            + "{'serverNames':['b.example.com','A.example.com']," + UP + "}]",
        "listeners[0].routes[1].serverNames: 'a.example.com' is already routed by listeners[0].routes[0]; a name "
            + "can route to one place only, remove it from one of the two routes");
  }

  @Test
  void serverNameListedTwiceInOneRouteIsRefused() {
    assertProblem(TLS + ",'routes':[{'serverNames':['a.example.com','a.example.com']," + UP + "}]",
        "listeners[0].routes[0].serverNames[1]: 'a.example.com' is listed twice in this route; remove one");
  }

  @Test
  void invalidServerNamesAreRefused() {
    for (String bad : new String[] {"*", "a.*.example.com", "**.example.com", "exa mple.com", "-a.example.com",
        "10.0.0.1:443"}) {
      assertProblem(TLS + ",'routes':[{'serverNames':['" + bad + "']," + UP + "}]",
          "listeners[0].routes[0].serverNames[0]: '" + bad + "' is not a DNS name; give an exact name such as "
              + "api.example.com or a wildcard such as *.example.com (one leading '*.' only)");
    }
  }

  @Test
  void routeWithoutServerNamesIsRefused() {
    assertProblem(TLS + ",'routes':[{" + UP + "}]", "listeners[0].routes[0].serverNames: missing or empty; "
        + "list the SNI names this route answers, e.g. [api.example.com]");
  }

  @Test
  void routeWithoutUpstreamIsRefused() {
    assertProblem(TLS + ",'routes':[{'serverNames':['a.example.com']}]", "listeners[0].routes[0].upstream: "
        + "missing; set upstream.endpoints to where this route's connections go");
  }

  @Test
  void unknownKeyInRouteIsRefused() {
    assertProblem(TLS + ",'routes':[{'serverNames':['a.example.com'],'sni':'x'," + UP + "}]",
        "listeners[0].routes[0].sni: unknown key; allowed here: allow, certificates, clientAuth, clientCa, "
            + "clientCaSecretDir, crl, name, serverNames, upstream");
  }

  @Test
  void duplicateAndReservedRouteNamesAreRefused() {
    assertProblem(TLS + ",'routes':[{'name':'x','serverNames':['a.example.com']," + UP + "},"
            + "{'name':'x','serverNames':['b.example.com']," + UP + "}]",
        "listeners[0].routes[1].name: route name 'x' is used by an earlier route; give this route a unique name");
    assertProblem(TLS + ",'routes':[{'name':'default','serverNames':['a.example.com']," + UP + "}]",
        "listeners[0].routes[0].name: 'default' is the name of the listener's own upstream; choose another name");
    assertProblem(TLS + ",'routes':[{'name':'A B','serverNames':['a.example.com']," + UP + "}]",
        "listeners[0].routes[0].name: 'A B' may only contain a-z, 0-9, '.', '-' and '*'");
  }

  @Test
  void routeCertificatesInPassthroughModeAreRefused() {
    assertProblem("'passthrough':true,'routes':[{'serverNames':['a.example.com'],"
            + "'certificates':[{'cert':'a.pem','key':'a.key'}]," + UP + "}]",
        "listeners[0].routes[0].certificates: a passthrough listener does not terminate TLS, so it serves no "
            + "certificate; remove certificates, or set passthrough: false and give the listener tls");
  }

  @Test
  void listenerTlsInPassthroughModeIsRefused() {
    assertProblem("'passthrough':true," + TLS + "," + UP, "listeners[0].tls: passthrough: true forwards the "
        + "client's TLS untouched, so the listener has no tls of its own; remove tls, or set passthrough: false to "
        + "terminate TLS here");
  }

  @Test
  void upstreamTlsInPassthroughModeIsRefused() {
    String message = ": a passthrough listener forwards the client's TLS bytes untouched and cannot originate "
        + "TLS on bytes it never decrypted; remove tls (the upstream terminates the client's TLS itself), or set "
        + "passthrough: false and give the listener tls";
    assertProblem("'passthrough':true,'routes':[{'serverNames':['a.example.com'],'upstream':{'endpoints':"
        + "['127.0.0.1:443'],'tls':{}}}]", "listeners[0].routes[0].upstream.tls" + message);
    assertProblem("'passthrough':true,'upstream':{'endpoints':['127.0.0.1:443'],'tls':{}}",
        "listeners[0].upstream.tls" + message);
  }

  @Test
  void routesOnAPlaintextListenerAreRefused() {
    assertProblem("'routes':[{'serverNames':['a.example.com']," + UP + "}]", "listeners[0].routes: routing by "
        + "server name needs the client's SNI: give the listener tls (terminate here) or set passthrough: true "
        + "(forward the TLS untouched)");
  }

  @Test
  void emptyRoutesAreRefused() {
    assertProblem(TLS + ",'routes':[]", "listeners[0].routes: is empty; list at least one route with serverNames "
        + "and upstream, or remove it");
  }

  @Test
  void listenerWithoutUpstreamOrRoutesIsRefused() {
    assertProblem(TLS, "listeners[0].upstream: missing; set upstream.endpoints to where connections go, e.g. "
        + "[127.0.0.1:8080], or give routes");
  }

  private static ListenerConfig listener(String body) {
    return new ConfigReader(Map.of()).read(json(body)).listeners().get(0);
  }

  private static void assertProblem(String body, String expected) {
    ConfigException e = assertThrows(ConfigException.class, () -> new ConfigReader(Map.of()).read(json(body)));
    assertEquals(List.of(expected), e.problems());
  }

  private static JsonObject json(String listenerBody) {
    return new JsonObject(("{'listeners':[{'name':'edge','listen':'127.0.0.1:0'," + listenerBody + "}]}")
        .replace('\'', '"'));
  }
}
