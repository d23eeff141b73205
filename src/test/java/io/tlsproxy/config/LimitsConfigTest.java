package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.LimitsConfig.OverLimit;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The listener-level limit keys: their values, their defaults, and one clear line per mistake. */
@ExtendWith(VertxExtension.class)
class LimitsConfigTest {

  private static final String TLS = "tls: {certificates: [{cert: c.pem, key: k.pem}]}, ";

  @TempDir
  static Path dir;

  /** Loads a one-listener YAML file whose listener has {@code listenerKeys} (flow style, each ending in ", "). */
  private static ListenerConfig read(Vertx vertx, String listenerKeys) throws IOException {
    Path file = Files.createTempFile(dir, "limits", ".yaml");
    Files.writeString(file, "listeners: [{name: a, listen: '127.0.0.1:0', " + listenerKeys
        + "upstream: {endpoints: ['127.0.0.1:1']}}]\n");
    return ConfigLoader.load(vertx, file, Map.of("MAX", "250")).listeners().get(0);
  }

  private static List<String> problems(Vertx vertx, String listenerKeys) {
    return assertThrows(ConfigException.class, () -> read(vertx, listenerKeys)).problems();
  }

  @Test
  void limitsAreReadWithTheirMode(Vertx vertx) throws IOException {
    assertEquals(new LimitsConfig(10000, 2000, OverLimit.REFUSE),
        read(vertx, TLS + "maxConnections: 10000, maxHandshakesPerSecond: 2000, overLimit: refuse, ").limits());
    assertEquals(new LimitsConfig(250, 0, OverLimit.WAIT), read(vertx, "maxConnections: '${MAX}', ").limits());
  }

  @Test
  void withoutTheKeysThereIsNoLimit(Vertx vertx) throws IOException {
    assertEquals(LimitsConfig.NONE, read(vertx, "").limits());
    assertEquals(0, LimitsConfig.NONE.maxConnections());
    assertEquals(0, LimitsConfig.NONE.maxHandshakesPerSecond());
    assertEquals(OverLimit.WAIT, LimitsConfig.NONE.overLimit());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "maxConnections: 0, | listeners[0].maxConnections: 0 would let nothing through; leave the key out for no limit",
      "maxConnections: -5, | listeners[0].maxConnections: -5 is out of range; give a whole number from 0 to",
      "maxConnections: many, | listeners[0].maxConnections: expected a whole number, got 'many'",
      "maxConnections: 1.5, | listeners[0].maxConnections: expected a whole number, got '1.5'",
      "maxConnections: 9999999999, | listeners[0].maxConnections: 9999999999 is out of range",
      "maxHandshakesPerSecond: 100, | listeners[0].maxHandshakesPerSecond: only applies to a listener that "
          + "terminates TLS",
      TLS + "maxHandshakesPerSecond: 0, | listeners[0].maxHandshakesPerSecond: 0 would let nothing through",
      "maxConnections: 5, overLimit: drop, | listeners[0].overLimit: unknown value 'drop'; use one of wait, refuse",
      "overLimit: refuse, | listeners[0].overLimit: has no effect without maxConnections or maxHandshakesPerSecond",
  })
  void mistakesAreOneLineNamingTheKey(String keys, String expected, Vertx vertx) {
    List<String> problems = problems(vertx, keys);
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith(expected), problems.get(0));
  }
}
