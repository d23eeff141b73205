package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The top-level {@code warmup} keys: on by default, their values, and one line naming the key per mistake. */
@ExtendWith(VertxExtension.class)
class WarmupConfigTest {

  @TempDir
  static Path dir;

  private static WarmupConfig read(Vertx vertx, String warmup) throws IOException {
    Path file = Files.createTempFile(dir, "warmup", ".yaml");
    Files.writeString(file, warmup + "\nlisteners: [{name: a, listen: '127.0.0.1:0', "
        + "upstream: {endpoints: ['127.0.0.1:1']}}]\n");
    return ConfigLoader.load(vertx, file, Map.of()).warmup();
  }

  private static List<String> problems(Vertx vertx, String warmup) {
    return assertThrows(ConfigException.class, () -> read(vertx, warmup)).problems();
  }

  @Test
  void withoutTheKeyTheWarmupRunsWithItsDefaults(Vertx vertx) throws IOException {
    assertEquals(WarmupConfig.DEFAULT, read(vertx, ""));
    assertEquals(new WarmupConfig(true, 1500, Duration.ofMillis(1500)), WarmupConfig.DEFAULT);
  }

  @Test
  void itsKeysAreRead(Vertx vertx) throws IOException {
    assertEquals(new WarmupConfig(false, 200, Duration.ofSeconds(3)),
        read(vertx, "warmup: {enabled: false, connections: 200, maxDuration: 3s}"));
  }

  @Test
  void eachMistakeIsOneLineNamingItsKey(Vertx vertx) {
    assertEquals(List.of("warmup.maxDuration: must be more than 0s and at most 60s; to start without a warm-up set "
        + "warmup.enabled: false"), problems(vertx, "warmup: {maxDuration: 0}"));
    assertEquals(1, problems(vertx, "warmup: {maxDuration: 2m}").size());
    assertEquals(List.of("warmup.connections: 0 is out of range; give a whole number from 1 to 100000"),
        problems(vertx, "warmup: {connections: 0}"));
    assertEquals(1, problems(vertx, "warmup: {enabeld: true}").size());
  }
}
