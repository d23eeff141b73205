package io.tlsproxy.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads a listener's {@code routes} and checks the rules between routes and the listener: which mode allows
 * what, and that no server name is claimed twice (a name must route to one place only).
 */
final class RouteReader {

  /** A DNS name of letters, digits and hyphens, optionally behind one {@code *.} wildcard label. */
  private static final Pattern SERVER_NAME =
      Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
  private static final Pattern ROUTE_NAME = Pattern.compile("[a-z0-9*.-]+");

  private final boolean passthrough;
  private final Function<ConfigNode, UpstreamConfig> upstreamReader;
  private final Function<ConfigNode, CertificateConfig> certificateReader;
  private final Function<ConfigNode, ClientPolicyConfig> clientPolicyReader;

  RouteReader(boolean passthrough, Function<ConfigNode, UpstreamConfig> upstreamReader,
              Function<ConfigNode, CertificateConfig> certificateReader,
              Function<ConfigNode, ClientPolicyConfig> clientPolicyReader) {
    this.passthrough = passthrough;
    this.upstreamReader = upstreamReader;
    this.certificateReader = certificateReader;
    this.clientPolicyReader = clientPolicyReader;
  }

  RouteConfig route(ConfigNode n) {
    List<String> keys = new ArrayList<>(List.of("name", "serverNames", "certificates", "upstream"));
    keys.addAll(ClientPolicyConfig.KEYS);
    n.allowOnly(keys.toArray(String[]::new));
    List<String> names = new ArrayList<>();
    List<String> raw = n.strings("serverNames");
    if (raw.isEmpty()) {
      n.problem("serverNames", "missing or empty; list the SNI names this route answers, e.g. [api.example.com]");
    }
    for (int i = 0; i < raw.size(); i++) {
      String name = normalize(raw.get(i));
      if (!SERVER_NAME.matcher(name).matches() || name.length() > 253) {
        n.problem("serverNames[" + i + "]", "'" + raw.get(i) + "' is not a DNS name; give an exact name such as "
            + "api.example.com or a wildcard such as *.example.com (one leading '*.' only)");
      } else if (names.contains(name)) {
        n.problem("serverNames[" + i + "]", "'" + name + "' is listed twice in this route; remove one");
      } else {
        names.add(name);
      }
    }
    String routeName = n.string("name", names.isEmpty() ? null : names.get(0));
    if (routeName != null && !ROUTE_NAME.matcher(routeName).matches()) {
      n.problem("name", "'" + routeName + "' may only contain a-z, 0-9, '.', '-' and '*'");
    } else if (n.has("name") && RouteConfig.DEFAULT_NAME.equals(routeName)) {
      n.problem("name", "'default' is the name of the listener's own upstream; choose another name");
    }
    List<CertificateConfig> certs = new ArrayList<>();
    if (n.present("certificates") && passthrough) {
      n.problem("certificates", "a passthrough listener does not terminate TLS, so it serves no certificate; "
          + "remove certificates, or set passthrough: false and give the listener tls");
    } else {
      for (CertificateConfig c : n.children("certificates", certificateReader)) {
        // A route's certificate answers the route's names unless it says otherwise.
        certs.add(c.serverNames().isEmpty() ? new CertificateConfig(c.cert(), c.key(), c.keystore(), c.password(),
            List.copyOf(names), c.path(), c.secretDir()) : c);
      }
    }
    ConfigNode up = n.child("upstream");
    UpstreamConfig upstream = null;
    if (up == null) {
      n.problem("upstream", "missing; set upstream.endpoints to where this route's connections go");
    } else {
      upstream = upstreamReader.apply(up);
      if (passthrough && up.present("tls")) {
        up.problem("tls", PASSTHROUGH_UPSTREAM_TLS);
      }
    }
    return new RouteConfig(routeName, List.copyOf(names), List.copyOf(certs), upstream, n.path(), clientPolicy(n));
  }

  /**
   * The route's own client policy, or null when it sets none of the keys and inherits the listener's. A route that
   * sets any of them replaces the listener's policy as a whole, so it must say its clientAuth: a route that only
   * names another CA must not silently stop asking for certificates.
   */
  private ClientPolicyConfig clientPolicy(ConfigNode n) {
    List<String> given = ClientPolicyConfig.KEYS.stream().filter(n::present).toList();
    if (given.isEmpty()) {
      return null;
    }
    if (passthrough) {
      n.problem(given.get(0), "a passthrough listener does not terminate TLS, so it cannot ask clients for "
          + "certificates; remove it (the upstream checks client certificates), or set passthrough: false and give "
          + "the listener tls");
      return null;
    }
    if (!n.present("clientAuth")) {
      n.problem("clientAuth", "missing; a route that sets " + given.get(0) + " has a client policy of its own "
          + "and does not inherit the listener's clientAuth; set clientAuth: required (or optional, or none)");
    }
    ClientPolicyConfig policy = clientPolicyReader.apply(n);
    // Only when none was asked for: a missing or misspelt clientAuth is already reported.
    if ("none".equalsIgnoreCase(n.string("clientAuth", "")) && n.present("clientCa")) {
      n.problem("clientCa", "has no effect with clientAuth none; remove it, or set clientAuth: required or "
          + "optional");
    }
    return policy;
  }

  static final String PASSTHROUGH_UPSTREAM_TLS = "a passthrough listener forwards the client's TLS bytes untouched "
      + "and cannot originate TLS on bytes it never decrypted; remove tls (the upstream terminates the client's "
      + "TLS itself), or set passthrough: false and give the listener tls";

  /** Checks that span routes and the listener; {@code listener} is the listener's node. */
  void check(ConfigNode listener, List<RouteConfig> routes, boolean tls, boolean hasUpstream) {
    if (passthrough && tls) {
      listener.problem("tls", "passthrough: true forwards the client's TLS untouched, so the listener has no tls "
          + "of its own; remove tls, or set passthrough: false to terminate TLS here");
    }
    if (listener.present("routes") && routes.isEmpty()) {
      listener.problem("routes", "is empty; list at least one route with serverNames and upstream, or remove it");
    }
    if (!routes.isEmpty() && !passthrough && !tls) {
      listener.problem("routes", "routing by server name needs the client's SNI: give the listener tls (terminate "
          + "here) or set passthrough: true (forward the TLS untouched)");
    }
    if (!hasUpstream && routes.isEmpty() && !listener.present("routes")) {
      listener.problem("upstream", "missing; set upstream.endpoints to where connections go, e.g. "
          + "[127.0.0.1:8080], or give routes");
    }
    Map<String, String> claimedBy = new HashMap<>();
    Set<String> routeNames = new HashSet<>();
    for (RouteConfig r : routes) {
      for (int k = 0; k < r.serverNames().size(); k++) {
        String name = r.serverNames().get(k);
        String earlier = claimedBy.putIfAbsent(name, r.path());
        if (earlier != null) {
          listener.problemAt(r.path() + ".serverNames", "'" + name + "' is already routed by " + earlier
              + "; a name can route to one place only, remove it from one of the two routes");
        }
      }
      if (r.name() != null && !routeNames.add(r.name())) {
        listener.problemAt(r.path() + ".name", "route name '" + r.name() + "' is used by an earlier route; give "
            + "this route a unique name");
      }
    }
  }

  static String normalize(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }
}
