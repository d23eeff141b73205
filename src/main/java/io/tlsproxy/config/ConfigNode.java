package io.tlsproxy.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * One mapping of the configuration with its key path. Reading a key records a problem instead of throwing, so
 * that a whole file is checked in one pass; the returned value is then a harmless default.
 */
final class ConfigNode {

  private static final Pattern WHOLE_NUMBER = Pattern.compile("[-+]?[0-9]+");

  private final JsonObject json;
  private final String path;
  private final ConfigProblems problems;
  private final Map<String, String> env;

  ConfigNode(JsonObject json, String path, ConfigProblems problems, Map<String, String> env) {
    this.json = json;
    this.path = path;
    this.problems = problems;
    this.env = env;
  }

  String path() {
    return path;
  }

  String path(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  void problem(String key, String message) {
    problems.add(key == null ? path : path(key), message);
  }

  /** A problem at a full key path, for checks that span several entries. */
  void problemAt(String fullPath, String message) {
    problems.add(fullPath, message);
  }

  /** Whether a problem was reported for {@code key} already, so that one mistake gives one line. */
  boolean reported(String key) {
    String prefix = path(key) + ": ";
    return problems.list().stream().anyMatch(p -> p.startsWith(prefix));
  }

  /** Whether {@code key} is written at all, even without a value ({@code allow:}). */
  boolean present(String key) {
    return json.containsKey(key);
  }

  boolean has(String key) {
    return json.containsKey(key) && json.getValue(key) != null;
  }

  /** Unknown keys are errors: a misspelt key silently ignored is a policy silently not applied. */
  void allowOnly(String... keys) {
    Set<String> allowed = new TreeSet<>(Arrays.asList(keys));
    for (String key : json.fieldNames()) {
      if (!allowed.contains(key)) {
        problems.add(path(key), "unknown key; allowed here: " + String.join(", ", allowed));
      }
    }
  }

  /** The value as the YAML parser read it (a number, a string...), or null. */
  Object rawValue(String key) {
    return json.getValue(key);
  }

  String string(String key, String fallback) {
    Object v = json.getValue(key);
    if (v == null) {
      return fallback;
    }
    if (v instanceof JsonObject || v instanceof JsonArray) {
      problem(key, "expected a single value, not a " + (v instanceof JsonObject ? "mapping" : "list"));
      return fallback;
    }
    return expand(path(key), String.valueOf(v));
  }

  String requiredString(String key, String what) {
    if (json.getValue(key) instanceof Boolean b) {
      // YAML 1.1 turns unquoted off/on/yes/no into booleans, which would pass as the text false/true.
      problem(key, "YAML reads this as the boolean " + b + " (off, on, yes and no are booleans there); put the "
          + "value in quotes");
      return null;
    }
    String s = string(key, null);
    if (s == null || s.isBlank()) {
      if (!has(key)) {
        problem(key, "missing; set it to " + what);
      } else {
        problem(key, "is empty; set it to " + what);
      }
      return null;
    }
    return s;
  }

  boolean bool(String key, boolean fallback) {
    String s = string(key, null);
    if (s == null) {
      return fallback;
    }
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> {
        problem(key, "expected true or false, got '" + s + "'");
        yield fallback;
      }
    };
  }

  Duration duration(String key, Duration fallback) {
    String s = string(key, null);
    if (s == null) {
      return fallback;
    }
    try {
      return Durations.parse(s);
    } catch (IllegalArgumentException e) {
      problem(key, e.getMessage());
      return fallback;
    }
  }

  /** A whole number of at least {@code min}; {@code fallback} when the key is absent. */
  int integer(String key, int min, int fallback) {
    return integer(key, min, Integer.MAX_VALUE, fallback);
  }

  /** A whole number from {@code min} to {@code max}; {@code fallback} when the key is absent. */
  int integer(String key, int min, int max, int fallback) {
    String s = string(key, null);
    if (s == null) {
      return fallback;
    }
    String digits = s.trim();
    if (!WHOLE_NUMBER.matcher(digits).matches()) {
      problem(key, "expected a whole number, got '" + s + "'");
      return fallback;
    }
    long v;
    try {
      v = Long.parseLong(digits);
    } catch (NumberFormatException e) {
      v = digits.startsWith("-") ? Long.MIN_VALUE : Long.MAX_VALUE; // more digits than a long holds
    }
    if (v < min || v > max) {
      problem(key, digits + " is out of range; give a whole number from " + min + " to " + max);
      return fallback;
    }
    return (int) v;
  }

  HostPort hostPort(String key, HostPort fallback) {
    String s = string(key, null);
    if (s == null) {
      if (fallback == null) {
        problem(key, "missing; set it to host:port, e.g. 127.0.0.1:8443");
      }
      return fallback;
    }
    if (s.trim().startsWith(UnixAddress.PREFIX)) {
      problem(key, "a Unix socket is not supported here; give host:port, e.g. 127.0.0.1:9901");
      return fallback;
    }
    try {
      return HostPort.parse(s);
    } catch (IllegalArgumentException e) {
      problem(key, e.getMessage());
      return fallback;
    }
  }

  /** A listen address: {@code host:port}, {@code unix:/path} or {@code unix:@name}. */
  Address address(String key) {
    String s = string(key, null);
    if (s == null) {
      problem(key, "missing; set it to host:port or a Unix socket, e.g. 127.0.0.1:8443 or "
          + "unix:/run/tlsproxy/app.sock");
      return null;
    }
    try {
      return Address.parse(s);
    } catch (IllegalArgumentException e) {
      problem(key, e.getMessage());
      return null;
    }
  }

  Path file(String key) {
    String s = string(key, null);
    if (s == null) {
      return null;
    }
    if (s.isBlank()) {
      problem(key, "is empty; set it to a file path");
      return null;
    }
    return Path.of(s);
  }

  <E extends Enum<E>> E enumValue(String key, Class<E> type, E fallback) {
    String s = string(key, null);
    if (s == null) {
      return fallback;
    }
    String wanted = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (E e : type.getEnumConstants()) {
      if (e.name().equals(wanted)) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    }
    problem(key, "unknown value '" + s + "'; use one of " + String.join(", ", names));
    return fallback;
  }

  List<String> strings(String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray array)) {
      problem(key, "expected a list, e.g. [a, b]");
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      String itemPath = path(key) + "[" + i + "]";
      if (item == null || item instanceof JsonObject || item instanceof JsonArray) {
        problems.add(itemPath, "expected a single value");
      } else {
        out.add(expand(itemPath, String.valueOf(item)));
      }
    }
    return out;
  }

  ConfigNode child(String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonObject obj)) {
      problem(key, "expected a mapping of keys");
      return null;
    }
    return new ConfigNode(obj, path(key), problems, env);
  }

  /** Reads a list of mappings, each through {@code reader}; bad entries are reported and skipped. */
  <T> List<T> children(String key, Function<ConfigNode, T> reader) {
    Object v = json.getValue(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray array)) {
      problem(key, "expected a list of mappings");
      return List.of();
    }
    List<T> out = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      String itemPath = path(key) + "[" + i + "]";
      if (!(item instanceof JsonObject obj)) {
        problems.add(itemPath, "expected a mapping of keys");
        continue;
      }
      T t = reader.apply(new ConfigNode(obj, itemPath, problems, env));
      if (t != null) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * Expands {@code ${VAR}} and {@code ${VAR:-default}} from the environment; {@code $${} writes a literal
   * {@code ${} (a password may contain one), as in Docker Compose files.
   */
  private String expand(String keyPath, String value) {
    if (value.indexOf("${") < 0) {
      return value;
    }
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < value.length()) {
      int start = value.indexOf("${", i);
      if (start < 0) {
        out.append(value, i, value.length());
        break;
      }
      if (start > i && value.charAt(start - 1) == '$') {
        out.append(value, i, start - 1).append("${");
        i = start + 2;
        continue;
      }
      int end = value.indexOf('}', start);
      if (end < 0) {
        // The value is not repeated: it may be a password.
        problems.add(keyPath, "unterminated ${; write ${NAME}, or $${ for a literal ${");
        return value;
      }
      out.append(value, i, start);
      String expr = value.substring(start + 2, end);
      int dflt = expr.indexOf(":-");
      String name = dflt >= 0 ? expr.substring(0, dflt) : expr;
      String resolved = env.get(name);
      if (resolved == null && dflt >= 0) {
        resolved = expr.substring(dflt + 2);
      }
      if (resolved == null) {
        problems.add(keyPath, "environment variable " + name + " is not set; export it, write ${" + name
            + ":-default}, or write $${ for a literal ${");
        resolved = "";
      }
      out.append(resolved);
      i = end + 1;
    }
    return out.toString();
  }
}
