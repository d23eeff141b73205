package io.tlsproxy.auth;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A DNS name to match a certificate's DNS SAN against: exact (case-insensitive, trailing dot ignored) or with a
 * {@code *} as the whole leftmost label, which matches exactly one label (RFC 6125 section 6.4.3), so
 * {@code *.svc.cluster.local} matches {@code billing.svc.cluster.local} but not {@code a.billing.svc.cluster.local}.
 */
public final class DnsPattern {

  private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?");

  private final String pattern;
  private final String[] labels;

  private DnsPattern(String pattern, String[] labels) {
    this.pattern = pattern;
    this.labels = labels;
  }

  /** Parses {@code text}; the exception's message says what is wrong with it. */
  public static DnsPattern parse(String text) {
    String n = normalize(text);
    if (n.isEmpty()) {
      throw new IllegalArgumentException("is empty; give a DNS name such as billing.example.com or *.example.com");
    }
    String[] labels = n.split("\\.", -1);
    for (int i = 0; i < labels.length; i++) {
      String l = labels[i];
      if (l.equals("*")) {
        if (i != 0) {
          throw new IllegalArgumentException("'" + text + "': * may only be the whole leftmost label, e.g. "
              + "*.example.com");
        }
        continue;
      }
      if (l.contains("*")) {
        throw new IllegalArgumentException("'" + text + "': * must be a whole label (*.example.com), not part of "
            + "one");
      }
      if (!LABEL.matcher(l).matches()) {
        throw new IllegalArgumentException("'" + text + "' is not a DNS name: label '" + l + "' is empty or has "
            + "characters other than a-z, 0-9, '-'");
      }
    }
    if (labels[0].equals("*") && labels.length < 3) {
      throw new IllegalArgumentException("'" + text + "': a wildcard needs at least two labels after it, e.g. "
          + "*.example.com");
    }
    return new DnsPattern(n, labels);
  }

  /** Whether {@code name} (a DNS SAN) matches. */
  public boolean matches(String name) {
    if (name == null) {
      return false;
    }
    String[] have = normalize(name).split("\\.", -1);
    if (have.length != labels.length) {
      return false;
    }
    for (int i = 0; i < labels.length; i++) {
      boolean wildcard = i == 0 && labels[0].equals("*");
      if (wildcard ? have[i].isEmpty() : !labels[i].equals(have[i])) {
        return false;
      }
    }
    return true;
  }

  private static String normalize(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  @Override
  public String toString() {
    return pattern;
  }
}
