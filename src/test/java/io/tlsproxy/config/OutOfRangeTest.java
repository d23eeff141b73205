package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.tlsproxy.CheckAccess;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Numbers too large (or too small) for their key are one line naming the key and the range, with exit code 2,
 * from {@code --check}: never an overflow or an exception later, at start or at run time.
 */
class OutOfRangeTest {

  @TempDir
  static Path dir;

  record Result(int code, String out, String err) {
  }

  private static Result check(String yaml) throws IOException {
    Path file = Files.createTempFile(dir, "range", ".yaml");
    Files.writeString(file, yaml);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = CheckAccess.run(new String[] {"--check", "--config", file.toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A plaintext listener with {@code listenerKeys} (flow style, each ending in ", ") and {@code topLevel} after. */
  private static String config(String listenerKeys, String topLevel) {
    return "listeners: [{name: a, listen: '127.0.0.1:0', " + listenerKeys
        + "upstream: {endpoints: ['127.0.0.1:1']}}]\n" + topLevel;
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "idleTimeout: 99999999999999d, | | listeners[0].idleTimeout: 99999999999999d is out of range; give at most 365d",
      "idleTimeout: 366d, | | listeners[0].idleTimeout: 366d is out of range; give at most 365d",
      "maxConnectionLifetime: 8761h, | | listeners[0].maxConnectionLifetime: 8761h is out of range; give at most "
          + "365d",
      "idleTimeout: 99999999999999999999999ms, | | listeners[0].idleTimeout: 99999999999999999999999ms is out of "
          + "range; give at most 365d",
      " | shutdown: {drainTimeout: 9223372036854775807s} | shutdown.drainTimeout: 9223372036854775807s is out of "
          + "range; give at most 365d",
      " | reload: {warnBefore: 99999999999999d} | reload.warnBefore: 99999999999999d is out of range; give at most "
          + "365d",
      " | reload: {checkInterval: 31536000001ms} | reload.checkInterval: 31536000001ms is out of range; give at "
          + "most 365d",
      "maxConnections: 99999999999999999999, | | listeners[0].maxConnections: 99999999999999999999 is out of "
          + "range; give a whole number from 0 to 2147483647",
      "tls: {certificates: [{cert: c.pem, key: k.pem}]}, maxHandshakesPerSecond: 1000001, | | "
          + "listeners[0].maxHandshakesPerSecond: 1000001 is out of range; give a whole number from 0 to 1000000",
  })
  void valueOutOfRangeIsOneLineWithExitCode2(String listenerKeys, String topLevel, String expected)
      throws IOException {
    Result r = check(config(listenerKeys == null ? "" : listenerKeys, topLevel == null ? "" : topLevel + "\n"));
    assertEquals(2, r.code(), r.err());
    assertEquals(expected + "\n", r.err());
    assertFalse(r.out().contains("Exception"), r.out());
  }

  @Test
  void longestDurationIsAccepted() throws IOException {
    Result r = check(config("idleTimeout: 365d, maxConnectionLifetime: 8760h, ",
        "reload: {warnBefore: 31536000000ms}\n"));
    assertEquals(0, r.code(), r.err());
  }

  @Test
  void durationsReadAsTheyAreWrittenUpToTheMaximum() {
    assertEquals(Duration.ofDays(365), Durations.parse("365d"));
    assertEquals(Duration.ofMillis(1), Durations.parse("1ms"));
    assertEquals(Duration.ZERO, Durations.parse("0"));
    assertEquals(Duration.ZERO, Durations.parse("0s"));
    ProxyConfig c = new ConfigReader(Map.of()).read(new io.vertx.core.json.JsonObject(
        "{\"listeners\":[{\"name\":\"a\",\"listen\":\"127.0.0.1:0\",\"idleTimeout\":\"90m\","
            + "\"upstream\":{\"endpoints\":[\"127.0.0.1:80\"]}}]}"));
    assertEquals(Duration.ofMinutes(90), c.listeners().get(0).idleTimeout());
  }
}
