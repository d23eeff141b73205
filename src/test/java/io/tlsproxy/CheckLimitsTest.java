package io.tlsproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --check} shows a listener's limits, and a wrong limit is one line naming its key, with exit code 2. */
class CheckLimitsTest {

  @TempDir
  Path dir;

  private String[] check(String listenerKeys, int expectedCode) throws Exception {
    Path file = dir.resolve("limits.yaml");
    Files.writeString(file, """
        listeners:
          - name: capped
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:8080]}
        """ + listenerKeys);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new String[] {"--check", "--config", file.toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(expectedCode, code, err.toString(StandardCharsets.UTF_8));
    return new String[] {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
  }

  @Test
  void checkPrintsTheLimitsOfAListener() throws Exception {
    String out = check("    maxConnections: 100\n    overLimit: refuse\n", 0)[0];
    assertTrue(out.contains("  limits: maxConnections 100, maxHandshakesPerSecond none, over a limit: refuse\n"),
        out);
  }

  @Test
  void aHandshakeRateOnAPlaintextListenerIsOneLineNamingTheKey() throws Exception {
    String err = check("    maxHandshakesPerSecond: 50\n", 2)[1];
    assertEquals("listeners[0].maxHandshakesPerSecond: only applies to a listener that terminates TLS (with tls:); "
        + "remove it or limit connections with maxConnections\n", err);
  }
}
