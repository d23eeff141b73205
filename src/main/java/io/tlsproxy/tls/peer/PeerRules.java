package io.tlsproxy.tls.peer;

import io.tlsproxy.auth.AllowList;
import io.tlsproxy.auth.DnsPattern;
import io.tlsproxy.auth.SpkiPin;
import io.tlsproxy.auth.UriPattern;
import io.tlsproxy.config.AllowConfig;
import io.tlsproxy.config.ClientTlsConfig;
import io.tlsproxy.config.ConfigProblems;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Compiles the identity rules of the configuration into the auth package's matchers, reporting every pattern
 * that does not parse by its key. The same parsers run for {@code --check} and at start.
 */
final class PeerRules {

  private PeerRules() {
  }

  /** A listener's client allow-list, or null with the reasons in {@code problems}. */
  static AllowList clients(AllowConfig c, ConfigProblems problems) {
    int before = problems.size();
    String p = c.path();
    AllowList allow = AllowList.clients(p, c.commonNames(),
        parseEach(c.dnsNames(), p + ".dnsNames", DnsPattern::parse, problems),
        parseEach(c.uris(), p + ".uris", UriPattern::parse, problems),
        parseEach(c.spkiSha256(), p + ".spkiSha256", SpkiPin::parse, problems));
    return problems.size() > before ? null : allow;
  }

  /**
   * The checks of an upstream's identity beyond its host name: one of verifyDnsNames/verifyUris as a SAN, and
   * one of the spkiSha256 pins as its key, each only when configured.
   */
  static List<PeerTrustManager.ChainCheck> upstream(ClientTlsConfig c, ConfigProblems problems) {
    String p = c.path();
    List<PeerTrustManager.ChainCheck> checks = new ArrayList<>();
    List<DnsPattern> dns = parseEach(c.verifyDnsNames(), p + ".verifyDnsNames", DnsPattern::parse, problems);
    List<UriPattern> uris = parseEach(c.verifyUris(), p + ".verifyUris", UriPattern::parse, problems);
    if (!dns.isEmpty() || !uris.isEmpty()) {
      AllowList names = AllowList.upstreamNames(p, dns, uris);
      checks.add(chain -> names.require(chain, AllowList.PEER_NOT_ALLOWED));
    }
    List<SpkiPin> pins = parseEach(c.spkiSha256(), p + ".spkiSha256", SpkiPin::parse, problems);
    if (!pins.isEmpty()) {
      AllowList pinned = AllowList.upstreamPins(p, pins);
      checks.add(chain -> pinned.require(chain, AllowList.PEER_NOT_ALLOWED));
    }
    return checks;
  }

  private static <T> List<T> parseEach(List<String> items, String key, Function<String, T> parser,
                                       ConfigProblems problems) {
    List<T> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      try {
        out.add(parser.apply(items.get(i)));
      } catch (IllegalArgumentException e) {
        problems.add(key + "[" + i + "]", e.getMessage());
      }
    }
    return out;
  }
}
