package io.tlsproxy.auth;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A URI to match a certificate's URI SAN against, typically a SPIFFE ID ({@code spiffe://trust-domain/path}).
 * Scheme and authority compare case-insensitively and never hold wildcards; the path compares segment by segment,
 * exactly: {@code *} as a whole segment matches exactly one segment, {@code **} one or more. So
 * {@code spiffe://prod/ns/billing/*} matches {@code spiffe://prod/ns/billing/api} but not
 * {@code spiffe://prod/ns/billing/sa/api}; {@code spiffe://prod/ns/billing/**} matches both, and neither matches
 * {@code spiffe://prod/ns/billing} itself. A URI with an empty segment, a query or a fragment (which SPIFFE IDs
 * never have) matches no pattern.
 */
public final class UriPattern {

  private static final String ONE = "*";
  private static final String MANY = "**";

  private final String pattern;
  private final String prefix;
  private final List<String> segments;

  private UriPattern(String pattern, String prefix, List<String> segments) {
    this.pattern = pattern;
    this.prefix = prefix;
    this.segments = segments;
  }

  /** Parses {@code text}; the exception's message says what is wrong with it. */
  public static UriPattern parse(String text) {
    Parsed p = split(text.trim());
    if (p == null) {
      throw new IllegalArgumentException("'" + text + "' is not a URI of the form scheme://authority/path, e.g. "
          + "spiffe://prod.example/ns/billing/sa/api");
    }
    if (p.prefix.contains("*")) {
      throw new IllegalArgumentException("'" + text + "': wildcards are only allowed as whole path segments, not "
          + "in the scheme or trust domain");
    }
    for (String s : p.segments) {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("'" + text + "' has an empty path segment (// or a trailing /); "
            + "remove it");
      }
      if (s.contains("*") && !s.equals(ONE) && !s.equals(MANY)) {
        throw new IllegalArgumentException("'" + text + "': segment '" + s + "' mixes * with text; a wildcard "
            + "must be a whole segment: * (one segment) or ** (one or more)");
      }
    }
    if (text.contains("?") || text.contains("#")) {
      throw new IllegalArgumentException("'" + text + "' has a query or fragment, which a SPIFFE ID never has");
    }
    return new UriPattern(text.trim(), p.prefix, p.segments);
  }

  /** Whether {@code uri} (a URI SAN) matches. */
  public boolean matches(String uri) {
    if (uri == null || uri.contains("?") || uri.contains("#")) {
      return false;
    }
    Parsed p = split(uri);
    if (p == null || !p.prefix.equals(prefix) || p.segments.contains("")) {
      return false;
    }
    return match(0, p.segments, 0);
  }

  private boolean match(int pi, List<String> have, int hi) {
    if (pi == segments.size()) {
      return hi == have.size();
    }
    String s = segments.get(pi);
    if (s.equals(MANY)) {
      // One or more segments; bounded by the number of segments left.
      for (int take = 1; hi + take <= have.size(); take++) {
        if (match(pi + 1, have, hi + take)) {
          return true;
        }
      }
      return false;
    }
    if (hi == have.size()) {
      return false;
    }
    return (s.equals(ONE) || s.equals(have.get(hi))) && match(pi + 1, have, hi + 1);
  }

  private record Parsed(String prefix, List<String> segments) {
  }

  /** {@code scheme://authority} lower-cased, and the path split at '/'; null when not of that form. */
  private static Parsed split(String uri) {
    int sep = uri.indexOf("://");
    if (sep <= 0) {
      return null;
    }
    int pathStart = uri.indexOf('/', sep + 3);
    String authority = pathStart < 0 ? uri.substring(sep + 3) : uri.substring(sep + 3, pathStart);
    if (authority.isEmpty()) {
      return null;
    }
    String prefix = uri.substring(0, sep + 3).toLowerCase(Locale.ROOT) + authority.toLowerCase(Locale.ROOT);
    List<String> segments = new ArrayList<>();
    if (pathStart >= 0) {
      for (String s : uri.substring(pathStart + 1).split("/", -1)) {
        segments.add(s);
      }
    }
    return new Parsed(prefix, List.copyOf(segments));
  }

  @Override
  public String toString() {
    return pattern;
  }
}
