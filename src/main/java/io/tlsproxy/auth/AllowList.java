package io.tlsproxy.auth;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Rules over a verified certificate chain's leaf: common names (exact), DNS SANs ({@link DnsPattern}), URI SANs
 * ({@link UriPattern}) and key pins ({@link SpkiPin}). Any one match admits. It fails closed: a missing chain, or
 * a list without a single rule, admits nobody.
 */
public final class AllowList {

  /** Refused clients of a listener's {@code allow}. */
  public static final String CLIENT_NOT_ALLOWED = "client_not_allowed";
  /** Upstreams refused by {@code verifyUris}, {@code verifyDnsNames} or {@code spkiSha256}. */
  public static final String PEER_NOT_ALLOWED = "peer_not_allowed";

  /** What a check decided; {@code detail} names the peer and, when refused, the rule set it failed. */
  public record Verdict(boolean allowed, String detail) {
  }

  private final String name;
  private final String[] keys;
  private final List<String> commonNames;
  private final List<DnsPattern> dnsNames;
  private final List<UriPattern> uris;
  private final List<SpkiPin> pins;

  private AllowList(String name, String[] keys, List<String> commonNames, List<DnsPattern> dnsNames,
                    List<UriPattern> uris, List<SpkiPin> pins) {
    this.name = name;
    this.keys = keys;
    this.commonNames = List.copyOf(commonNames);
    this.dnsNames = List.copyOf(dnsNames);
    this.uris = List.copyOf(uris);
    this.pins = List.copyOf(pins);
  }

  /**
   * A listener's client allow-list.
   *
   * @param name the rule set as the configuration calls it (e.g. {@code listeners[0].tls.allow}), for details
   */
  public static AllowList clients(String name, List<String> commonNames, List<DnsPattern> dnsNames,
                                  List<UriPattern> uris, List<SpkiPin> pins) {
    return new AllowList(name, new String[] {".commonNames", ".dnsNames", ".uris", ".spkiSha256"}, commonNames,
        dnsNames, uris, pins);
  }

  /** The SANs an upstream must carry one of ({@code verifyDnsNames}, {@code verifyUris} under {@code path}). */
  public static AllowList upstreamNames(String path, List<DnsPattern> dnsNames, List<UriPattern> uris) {
    return new AllowList(path, new String[] {"", ".verifyDnsNames", ".verifyUris", ""}, List.of(), dnsNames, uris,
        List.of());
  }

  /** The keys an upstream must hold one of ({@code spkiSha256} under {@code path}). */
  public static AllowList upstreamPins(String path, List<SpkiPin> pins) {
    return new AllowList(path, new String[] {"", "", "", ".spkiSha256"}, List.of(), List.of(), List.of(), pins);
  }

  public boolean isEmpty() {
    return commonNames.isEmpty() && dnsNames.isEmpty() && uris.isEmpty() && pins.isEmpty();
  }

  /** Checks the leaf of {@code chain} (leaf first, already verified by the trust manager). */
  public Verdict check(X509Certificate[] chain) {
    if (chain == null || chain.length == 0) {
      return new Verdict(false, "no certificate; " + name + " admits only certificates");
    }
    X509Certificate leaf = chain[0];
    String peer = leaf.getSubjectX500Principal().getName();
    if (isEmpty()) {
      return new Verdict(false, peer + ": " + name + " is empty and admits nobody");
    }
    for (String cn : Identities.commonNames(leaf)) {
      if (commonNames.contains(cn)) {
        return new Verdict(true, peer + ": " + name + keys[0] + " " + cn);
      }
    }
    for (String dns : Identities.dnsNames(leaf)) {
      for (DnsPattern p : dnsNames) {
        if (p.matches(dns)) {
          return new Verdict(true, peer + ": " + name + keys[1] + " " + p);
        }
      }
    }
    for (String uri : Identities.uris(leaf)) {
      for (UriPattern p : uris) {
        if (p.matches(uri)) {
          return new Verdict(true, peer + ": " + name + keys[2] + " " + p);
        }
      }
    }
    for (SpkiPin p : pins) {
      if (p.matches(leaf)) {
        return new Verdict(true, peer + ": " + name + keys[3] + " " + p);
      }
    }
    return new Verdict(false, peer + ": matched none of " + String.join(", ", ruleSets()));
  }

  /** Like {@link #check} but throws a {@link PeerNotAllowedException} of {@code category} when refused. */
  public void require(X509Certificate[] chain, String category) throws PeerNotAllowedException {
    Verdict v = check(chain);
    if (!v.allowed()) {
      throw new PeerNotAllowedException(category, v.detail());
    }
  }

  /** The non-empty rule sets, by key, e.g. {@code listeners[0].tls.allow.uris}. */
  public List<String> ruleSets() {
    List<String> out = new ArrayList<>();
    if (!commonNames.isEmpty()) {
      out.add(name + keys[0]);
    }
    if (!dnsNames.isEmpty()) {
      out.add(name + keys[1]);
    }
    if (!uris.isEmpty()) {
      out.add(name + keys[2]);
    }
    if (!pins.isEmpty()) {
      out.add(name + keys[3]);
    }
    return out;
  }

  @Override
  public String toString() {
    return isEmpty() ? name + " (empty: admits nobody)" : String.join(", ", ruleSets());
  }
}
