package io.tlsproxy.config;

import java.util.ArrayList;
import java.util.List;

/**
 * One entry of a listener's {@code routes}: connections whose SNI name matches go to this route's upstream.
 *
 * @param name         for metrics and logs; defaults to the first server name
 * @param serverNames  lower-case, exact ({@code api.example.com}) or one-label wildcards ({@code *.example.com})
 * @param certificates served for this route's names in terminate mode (each defaults to the route's names); empty
 *                     means the listener's certificates answer; always empty in passthrough mode
 * @param upstream     where matching connections go
 * @param path         the key path of this entry, for messages
 * @param clientPolicy this route's own {@code clientAuth}, {@code clientCa}, {@code allow} and {@code crl} in
 *                     terminate mode; null when the route inherits the listener's
 */
public record RouteConfig(String name, List<String> serverNames, List<CertificateConfig> certificates,
                          UpstreamConfig upstream, String path, ClientPolicyConfig clientPolicy) {

  /** A route that inherits the listener's client policy. */
  public RouteConfig(String name, List<String> serverNames, List<CertificateConfig> certificates,
                     UpstreamConfig upstream, String path) {
    this(name, serverNames, certificates, upstream, path, null);
  }

  /** The route name of a listener's own {@code upstream}, which takes what no route matches. */
  public static final String DEFAULT_NAME = "default";

  /**
   * Exact names that an earlier route's wildcard already matches: first match wins, so they never reach their
   * own route. Legal, since order is the contract, but almost always a mistake worth a warning.
   */
  public static List<String> shadowedNames(List<RouteConfig> routes) {
    List<String> out = new ArrayList<>();
    for (int j = 0; j < routes.size(); j++) {
      for (String name : routes.get(j).serverNames()) {
        int dot = name.indexOf('.');
        if (name.startsWith("*.") || dot < 0) {
          continue;
        }
        String wildcard = "*" + name.substring(dot);
        for (int i = 0; i < j; i++) {
          if (routes.get(i).serverNames().contains(wildcard)) {
            out.add(routes.get(j).path() + ".serverNames: '" + name + "' is matched first by '" + wildcard + "' of "
                + routes.get(i).path() + ", so it never reaches this route; move this route above that one if "
                + "it should");
            break;
          }
        }
      }
    }
    return out;
  }
}
