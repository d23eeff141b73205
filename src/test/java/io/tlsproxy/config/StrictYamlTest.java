package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tlsproxy.CheckAccess;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file as YAML: a key written twice is an error naming its path and both lines (through vertx-config, as the
 * proxy loads it), and {@code $${} writes a literal {@code ${} where {@code ${NAME}} reads the environment.
 */
class StrictYamlTest {

  @TempDir
  static Path dir;
  static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  private static ProxyConfig load(String yaml, Map<String, String> env) throws IOException {
    Path file = Files.createTempFile(dir, "strict", ".yaml");
    Files.writeString(file, yaml);
    return ConfigLoader.load(vertx, file, env);
  }

  private static List<String> problems(String yaml) {
    return assertThrows(ConfigException.class, () -> load(yaml, Map.of())).problems();
  }

  @Test
  void keyWrittenTwiceNamesItsPathAndBothLines() {
    List<String> problems = problems("""
        listeners:
          - name: web
            listen: 127.0.0.1:0
            tls:
              certificates: [{cert: c.pem, key: k.pem}]
              clientAuth: required
              clientCa: ca.pem
              clientAuth: none
            upstream: {endpoints: [127.0.0.1:8080]}
        """);
    assertEquals(List.of("listeners[0].tls.clientAuth: written twice, on lines 6 and 8; the last one would "
        + "silently win, so remove one"), problems);
  }

  @Test
  void everyKeyWrittenTwiceIsListedAtTopLevelInListsAndInFlowMappings() {
    List<String> problems = problems("""
        admin: {listen: 127.0.0.1:0}
        listeners:
          - {name: a, listen: 127.0.0.1:0, name: b, upstream: {endpoints: [127.0.0.1:1]}}
          - name: c
            listen: 127.0.0.1:0
            upstream:
              endpoints: [127.0.0.1:1]
              healthCheck: {interval: 5s}
              healthCheck: {interval: 1s}
        admin: {listen: 127.0.0.1:9901}
        """);
    assertEquals(List.of(
        "listeners[0].name: written twice on line 3; the last one would silently win, so remove one",
        "listeners[1].upstream.healthCheck: written twice, on lines 8 and 9; the last one would silently win, so "
            + "remove one",
        "admin: written twice, on lines 1 and 10; the last one would silently win, so remove one"), problems);
  }

  @Test
  void anchorsAndMergeKeysAreNotDuplicates() throws IOException {
    ProxyConfig c = load("""
        listeners:
          - &base {name: a, listen: 127.0.0.1:0, idleTimeout: 5m, upstream: {endpoints: [127.0.0.1:1]}}
          - <<: *base
            name: b
        """, Map.of());
    assertEquals(List.of("a", "b"), c.listeners().stream().map(ListenerConfig::name).toList());
    assertEquals(java.time.Duration.ofMinutes(5), c.listeners().get(1).idleTimeout());
  }

  @Test
  void aliasOfItsOwnParentIsOneLineNotAStackOverflow() {
    List<String> problems = problems("""
        listeners: &loop
          - name: a
            more: *loop
        """);
    assertEquals(List.of("listeners[0].more: an alias here refers to a value that contains it, which would never "
        + "end; write the value out instead"), problems);
  }

  @Test
  void fileThatIsAListIsOneLine() {
    assertEquals(List.of("line 1: the file must be a mapping of keys such as listeners:, not a list"),
        problems("- name: a\n- name: b\n"));
  }

  @Test
  void doubledDollarWritesALiteralDollarBrace() throws IOException {
    ProxyConfig c = load("""
        listeners:
          - name: a
            listen: 127.0.0.1:0
            tls: {certificates: [{keystore: k.p12, password: "pa$${PASS}w$${rd-${PASS}"}]}
            upstream: {endpoints: ["${HOST:-127.0.0.1}:80"]}
        """, Map.of("PASS", "secret"));
    assertEquals("pa${PASS}w${rd-secret", c.listeners().get(0).tls().certificates().get(0).password());
    assertEquals(new HostPort("127.0.0.1", 80), c.listeners().get(0).upstream().endpoints().get(0));
  }

  @Test
  void doubledDollarIsNotAnUnsetVariableNorAnUnterminatedOne() throws IOException {
    ProxyConfig c = load("""
        listeners:
          - name: a
            listen: 127.0.0.1:0
            tls: {certificates: [{keystore: k.p12, password: "$${UNSET_IN_THIS_TEST} and $${"}]}
            upstream: {endpoints: [127.0.0.1:80]}
        """, Map.of());
    assertEquals("${UNSET_IN_THIS_TEST} and ${", c.listeners().get(0).tls().certificates().get(0).password());
  }

  @Test
  void checkCommandReportsAKeyWrittenTwiceWithExitCode2() throws IOException {
    Path file = Files.writeString(dir.resolve("twice.yaml"), """
        listeners:
          - name: a
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:1]}
            idleTimeout: 1m
            idleTimeout: 2m
        """);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = CheckAccess.run(new String[] {"--check", "--config", file.toString()},
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, code, err.toString(StandardCharsets.UTF_8));
    assertEquals("listeners[0].idleTimeout: written twice, on lines 5 and 6; the last one would silently win, so "
        + "remove one\n", err.toString(StandardCharsets.UTF_8));
  }
}
