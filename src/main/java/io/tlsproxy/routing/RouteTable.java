package io.tlsproxy.routing;

import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.RouteConfig;
import io.tlsproxy.tls.ListenerTls;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The routes of one listener, looked up by SNI name: the first route in configuration order whose exact name or
 * {@code *.} wildcard (one label, RFC 6125 section 6.4.3) matches wins; the default route takes the rest and
 * clients without SNI. Built once, read without locks.
 */
public final class RouteTable {

  /** A route with its position, so that an exact and a wildcard hit can be ordered. */
  private record Entry(int order, Route route) {
  }

  private final List<Route> routes;
  private final Route fallback;
  private final Map<String, Entry> exact = new HashMap<>();
  private final Map<String, Entry> wildcard = new HashMap<>();

  /**
   * The routes of {@code listener}, in order, and its own upstream as the default; each route gets the client TLS
   * {@code tls} built for its upstream.
   */
  public static RouteTable of(ListenerConfig listener, ListenerTls tls) {
    List<ListenerTls.Upstream> clients = tls.upstreams();
    List<Route> routes = new ArrayList<>();
    for (int i = 0; i < listener.routes().size(); i++) {
      RouteConfig r = listener.routes().get(i);
      routes.add(new Route(r.name(), r.serverNames(), r.upstream(), clients.get(i).tls()));
    }
    Route fallback = listener.upstream() == null ? null : new Route(RouteConfig.DEFAULT_NAME, List.of(),
        listener.upstream(), clients.get(routes.size()).tls());
    return new RouteTable(routes, fallback);
  }

  /** {@code fallback} is the listener's own upstream; null refuses what no route matches. */
  public RouteTable(List<Route> routes, Route fallback) {
    this.routes = List.copyOf(routes);
    this.fallback = fallback;
    for (int i = 0; i < routes.size(); i++) {
      Entry e = new Entry(i, routes.get(i));
      for (String name : routes.get(i).serverNames()) {
        if (name.startsWith("*.")) {
          wildcard.putIfAbsent(name.substring(2), e);
        } else {
          exact.putIfAbsent(name, e);
        }
      }
    }
  }

  /** The route for a client that sent {@code serverName} (null: none), or null when it is to be refused. */
  Route select(String serverName) {
    if (serverName == null || serverName.isEmpty()) {
      return fallback;
    }
    String n = serverName.toLowerCase(Locale.ROOT);
    if (n.endsWith(".")) {
      n = n.substring(0, n.length() - 1);
    }
    Entry hit = exact.get(n);
    int dot = n.indexOf('.');
    Entry wild = dot > 0 ? wildcard.get(n.substring(dot + 1)) : null;
    if (wild != null && (hit == null || wild.order() < hit.order())) {
      hit = wild;
    }
    return hit != null ? hit.route() : fallback;
  }

  /** The routes matched by name, in order (without the default). */
  public List<Route> routes() {
    return routes;
  }

  /** The default route, or null when unmatched names are refused. */
  public Route fallback() {
    return fallback;
  }

  /** Every route, the default last. */
  public List<Route> all() {
    List<Route> out = new ArrayList<>(routes);
    if (fallback != null) {
      out.add(fallback);
    }
    return out;
  }
}
