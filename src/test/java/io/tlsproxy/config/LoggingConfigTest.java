package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.CheckAccess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code logging} section: format, level and access, their defaults, and a bad value named with the fix. */
class LoggingConfigTest {

  @TempDir
  static Path dir;

  private static final String LISTENER = "listeners: [{name: a, listen: '127.0.0.1:0', "
      + "upstream: {endpoints: ['127.0.0.1:1']}}]\n";

  private static ProxyConfig load(String yaml) throws Exception {
    Path file = Files.createTempFile(dir, "logging", ".yaml");
    Files.writeString(file, LISTENER + yaml);
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      return ConfigLoader.load(vertx, file, Map.of());
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void defaultsAreTextAtNoSetLevelWithAccessLines() throws Exception {
    LoggingConfig l = load("").logging();
    assertEquals(LoggingConfig.Format.TEXT, l.format());
    assertNull(l.level(), "unset: info, or the environment's level");
    assertTrue(l.access());
  }

  @Test
  void everyKeyIsRead() throws Exception {
    LoggingConfig l = load("logging: {format: json, level: Debug, access: false}\n").logging();
    assertEquals(LoggingConfig.Format.JSON, l.format());
    assertEquals(LoggingConfig.Level.DEBUG, l.level());
    assertFalse(l.access());
  }

  @Test
  void anUnknownLevelIsOneLineNamingTheKeyAndTheChoices() throws Exception {
    Path file = Files.createTempFile(dir, "logging", ".yaml");
    Files.writeString(file, LISTENER + "logging: {level: verbose}\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = CheckAccess.run(new String[] {"--check", "--config", file.toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, code);
    assertEquals("logging.level: unknown value 'verbose'; use one of debug, info, warn, error",
        err.toString(StandardCharsets.UTF_8).strip());
  }

  @Test
  void levelNamesParseInAnyCaseAndNothingElse() {
    assertEquals(LoggingConfig.Level.WARN, LoggingConfig.Level.parse(" WARN "));
    assertEquals(LoggingConfig.Level.ERROR, LoggingConfig.Level.parse("error"));
    assertNull(LoggingConfig.Level.parse("FINE"));
    assertNull(LoggingConfig.Level.parse(null));
  }
}
