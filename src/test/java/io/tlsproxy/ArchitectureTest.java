package io.tlsproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package map of the README's "Layout" section, held against the code: every package has a package-info.java,
 * and imports point only downward (a package imports only packages on a lower floor).
 */
class ArchitectureTest {

  private static final Path MAIN = Path.of("src/main/java/io/tlsproxy");

  /** Floors, lowest first. Packages on one floor do not import each other. */
  private static final Map<String, Integer> FLOOR = Map.ofEntries(
      Map.entry("config", 0),
      Map.entry("auth", 1), Map.entry("proxyproto", 1), Map.entry("transport", 1), Map.entry("material", 1), Map.entry("log", 1),
      Map.entry("tls.engine", 2), Map.entry("metrics", 2),
      Map.entry("tls.policy", 3),
      Map.entry("tls.peer", 4),
      Map.entry("tls", 5),
      Map.entry("upstream", 6), Map.entry("routing", 6), Map.entry("starttls", 6),
      Map.entry("relay", 7),
      Map.entry("listen", 8),
      Map.entry("admin", 9), Map.entry("warmup", 9),
      Map.entry("", 10));

  private static final Pattern IMPORT = Pattern.compile("^import (?:static )?io\\.tlsproxy\\.([\\w.]+);", Pattern.MULTILINE);

  @Test
  void everyPackageIsOnTheMapAndSaysWhatItOwns() throws IOException {
    TreeSet<String> packages = new TreeSet<>();
    try (Stream<Path> files = Files.walk(MAIN)) {
      files.filter(p -> p.toString().endsWith(".java")).forEach(p -> packages.add(packageOf(p)));
    }
    assertEquals(new TreeSet<>(FLOOR.keySet()), packages, "packages in the code vs. the floors of this test "
        + "(and of the README's Layout section): update both when a package is added");
    for (String pkg : packages) {
      if (!pkg.isEmpty()) {
        assertTrue(Files.exists(MAIN.resolve(pkg.replace('.', '/')).resolve("package-info.java")),
            pkg + " has no package-info.java saying what it owns");
      }
    }
  }

  @Test
  void importsPointOnlyDownward() throws IOException {
    List<String> upward = new ArrayList<>();
    try (Stream<Path> files = Files.walk(MAIN)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String from = packageOf(file);
        Matcher m = IMPORT.matcher(Files.readString(file));
        while (m.find()) {
          String to = packageOfImport(m.group(1));
          if (!to.equals(from) && FLOOR.get(to) >= FLOOR.get(from)) {
            upward.add(MAIN.relativize(file) + " imports io.tlsproxy." + m.group(1) + " (" + show(from) + " on floor "
                + FLOOR.get(from) + ", " + show(to) + " on floor " + FLOOR.get(to) + ")");
          }
        }
      }
    }
    assertTrue(upward.isEmpty(), "imports that do not point downward:\n" + String.join("\n", upward));
  }

  private static String show(String pkg) {
    return pkg.isEmpty() ? "the root package" : pkg;
  }

  private static String packageOf(Path file) {
    Path dir = MAIN.relativize(file).getParent();
    return dir == null ? "" : dir.toString().replace('/', '.');
  }

  /** The package part of an imported name: the longest prefix that is a directory of the main code. */
  private static String packageOfImport(String name) {
    String[] parts = name.split("\\.");
    String best = "";
    StringBuilder prefix = new StringBuilder();
    for (int i = 0; i < parts.length - 1; i++) {
      prefix.append(i == 0 ? "" : ".").append(parts[i]);
      if (Files.isDirectory(MAIN.resolve(prefix.toString().replace('.', '/')))) {
        best = prefix.toString();
      }
    }
    return best;
  }
}
