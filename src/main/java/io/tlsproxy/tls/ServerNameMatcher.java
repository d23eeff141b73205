package io.tlsproxy.tls;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Picks a value by TLS server name: an exact name first, then a {@code *.example.com} wildcard that stands for
 * exactly one label (RFC 6125 section 6.4.3), else the default. Built once, read without locks.
 */
public final class ServerNameMatcher<T> {

  private final Map<String, T> exact = new HashMap<>();
  private final Map<String, T> wildcard = new HashMap<>();
  private final T fallback;

  private ServerNameMatcher(T fallback) {
    this.fallback = fallback;
  }

  /** A matcher over {@code entries} in order: the first entry to claim a name keeps it. */
  public static <T> ServerNameMatcher<T> of(List<Map.Entry<List<String>, T>> entries, T fallback) {
    ServerNameMatcher<T> m = new ServerNameMatcher<>(fallback);
    for (Map.Entry<List<String>, T> e : entries) {
      for (String name : e.getKey()) {
        String n = normalize(name);
        if (n.startsWith("*.")) {
          m.wildcard.putIfAbsent(n.substring(2), e.getValue());
        } else {
          m.exact.putIfAbsent(n, e.getValue());
        }
      }
    }
    return m;
  }

  /** The value for {@code serverName}; the default when it is null or matches nothing. */
  public T match(String serverName) {
    T hit = find(serverName);
    return hit == null ? fallback : hit;
  }

  /** The value for {@code serverName}, or null when nothing but the default would match. */
  public T find(String serverName) {
    if (serverName == null || serverName.isEmpty()) {
      return null;
    }
    String n = normalize(serverName);
    T hit = exact.get(n);
    if (hit != null) {
      return hit;
    }
    int dot = n.indexOf('.');
    return dot > 0 ? wildcard.get(n.substring(dot + 1)) : null;
  }

  private static String normalize(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  /** Names claimed, for reports. */
  public List<String> names() {
    List<String> out = new ArrayList<>(exact.keySet());
    wildcard.keySet().forEach(w -> out.add("*." + w));
    return out;
  }
}
