package io.tlsproxy.config;

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
 */
public record RouteConfig(String name, List<String> serverNames, List<CertificateConfig> certificates,
                          UpstreamConfig upstream, String path) {

  /** The route name of a listener's own {@code upstream}, which takes what no route matches. */
  public static final String DEFAULT_NAME = "default";
}
