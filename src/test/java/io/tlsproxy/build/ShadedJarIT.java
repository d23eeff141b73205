package io.tlsproxy.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged tlsproxy.jar as it ships: the native TLS engine (BoringSSL) and epoll transport for both Linux
 * platforms the image is built for, and a CycloneDX SBOM that lists what the jar carries.
 */
class ShadedJarIT {

  /** ELF e_machine values (System V ABI, "Machine" field). */
  private static final int EM_X86_64 = 62;
  private static final int EM_AARCH64 = 183;

  private static Path jar;

  @BeforeAll
  static void findJar() {
    jar = Path.of(System.getProperty("tlsproxy.jar", "target/tlsproxy.jar"));
    assertTrue(Files.isRegularFile(jar), jar + ": not built (mvn package makes it)");
  }

  @Test
  void nativeTlsEngineAndEpollAreThereForX86AndArm64() throws IOException {
    Map<String, Integer> expected = Map.of(
        "META-INF/native/libnetty_tcnative_linux_x86_64.so", EM_X86_64,
        "META-INF/native/libnetty_tcnative_linux_aarch_64.so", EM_AARCH64,
        "META-INF/native/libnetty_transport_native_epoll_x86_64.so", EM_X86_64,
        "META-INF/native/libnetty_transport_native_epoll_aarch_64.so", EM_AARCH64);
    try (JarFile file = new JarFile(jar.toFile())) {
      for (var e : expected.entrySet()) {
        ZipEntry entry = file.getEntry(e.getKey());
        assertNotNull(entry, e.getKey() + " is not in " + jar);
        try (InputStream in = file.getInputStream(entry)) {
          assertEquals(e.getValue(), elfMachine(in.readNBytes(20)), e.getKey() + ": built for another machine");
        }
      }
    }
  }

  /** The machine of a 64-bit little-endian ELF file, from its first 20 bytes. */
  private static int elfMachine(byte[] header) {
    assertEquals("\u007fELF", new String(header, 0, 4, StandardCharsets.ISO_8859_1), "not an ELF file");
    assertEquals(2, header[4], "not 64-bit");
    assertEquals(1, header[5], "not little-endian");
    return (header[18] & 0xff) | (header[19] & 0xff) << 8;
  }

  @Test
  void sbomDescribesTheApplicationAndListsNettyAndVertx() throws IOException {
    JsonObject bom = sbom();
    assertEquals("CycloneDX", bom.getString("bomFormat"));
    JsonObject app = bom.getJsonObject("metadata").getJsonObject("component");
    assertEquals("tlsproxy", app.getString("name"));
    assertEquals("application", app.getString("type"));
    List<String> purls = purls(bom);
    for (String expected : List.of("pkg:maven/io.vertx/vertx-core@", "pkg:maven/io.netty/netty-handler@",
        "pkg:maven/io.netty/netty-tcnative-boringssl-static@", "pkg:maven/io.netty/netty-transport-native-epoll@")) {
      assertTrue(purls.stream().anyMatch(p -> p.startsWith(expected)), expected + " in " + purls);
    }
    for (String platform : List.of("linux-x86_64", "linux-aarch_64")) {
      assertTrue(purls.stream().anyMatch(p -> p.contains("netty-tcnative-boringssl-static@")
          && p.contains("classifier=" + platform)), "BoringSSL for " + platform + " in " + purls);
    }
    assertTrue(purls.stream().noneMatch(p -> p.contains("/org.junit") || p.contains("/io.fabric8/")),
        "test dependencies are not shipped, so not listed: " + purls);
  }

  /**
   * Libraries that a dependency carries inside its own jar, relocated, with their pom.properties: the SBOM lists
   * Maven dependencies, so these appear as the dependency that carries them. Netty vendors JCTools' queues.
   */
  private static final Map<String, String> CARRIED_BY = Map.of("org.jctools/jctools-core", "io.netty/netty-common");

  /** Every library shaded into the jar (each leaves its pom.properties behind) is in the SBOM, same version. */
  @Test
  void everyLibraryInTheJarIsInTheSbomWithItsVersion() throws IOException {
    Map<String, String> shaded = new TreeMap<>();
    try (JarFile file = new JarFile(jar.toFile())) {
      for (var entries = file.entries(); entries.hasMoreElements(); ) {
        ZipEntry entry = entries.nextElement();
        if (entry.getName().startsWith("META-INF/maven/") && entry.getName().endsWith("/pom.properties")) {
          Properties p = new Properties();
          try (InputStream in = file.getInputStream(entry)) {
            p.load(in);
          }
          if (!"tlsproxy".equals(p.getProperty("artifactId"))) {
            shaded.put(p.getProperty("groupId") + "/" + p.getProperty("artifactId"), p.getProperty("version"));
          }
        }
      }
    }
    assertTrue(shaded.size() > 10, "libraries found in the jar: " + shaded);
    List<String> purls = purls(sbom());
    List<String> missing = new ArrayList<>();
    shaded.forEach((name, version) -> {
      String carrier = CARRIED_BY.get(name);
      boolean listed = carrier == null
          ? purls.stream().anyMatch(p -> p.startsWith("pkg:maven/" + name + "@" + version))
          : purls.stream().anyMatch(p -> p.startsWith("pkg:maven/" + carrier + "@"));
      if (!listed) {
        missing.add(name + "@" + version + (carrier == null ? "" : " (carried by " + carrier + ")"));
      }
    });
    assertEquals(List.of(), missing, "in the jar but not in its SBOM");
  }

  private static JsonObject sbom() throws IOException {
    try (JarFile file = new JarFile(jar.toFile())) {
      ZipEntry entry = file.getEntry("META-INF/sbom/bom.json");
      assertNotNull(entry, "META-INF/sbom/bom.json is not in " + jar);
      try (InputStream in = file.getInputStream(entry)) {
        return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
  }

  private static List<String> purls(JsonObject bom) {
    JsonArray components = bom.getJsonArray("components");
    List<String> purls = new ArrayList<>();
    for (int i = 0; i < components.size(); i++) {
      purls.add(components.getJsonObject(i).getString("purl"));
    }
    return purls;
  }
}
