package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tlsproxy.CheckAccess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Two listeners, or a listener and the admin endpoint, that cannot both bind are found when the file is loaded
 * (so by {@code --check}), naming both keys; and the rule agrees with what the kernel does to real sockets.
 */
class ListenAddressTest {

  @TempDir
  static Path dir;

  /** Problems of a file with {@code admin} (null: the default) and one plaintext listener per address. */
  private static List<String> problems(String admin, String... listens) {
    JsonArray listeners = new JsonArray();
    for (int i = 0; i < listens.length; i++) {
      listeners.add(new JsonObject().put("name", "l" + i).put("listen", listens[i])
          .put("upstream", new JsonObject().put("endpoints", new JsonArray().add("127.0.0.1:1"))));
    }
    JsonObject root = new JsonObject().put("listeners", listeners);
    if (admin != null) {
      root.put("admin", new JsonObject().put("listen", admin));
    }
    try {
      new ConfigReader(Map.of()).read(root);
      return List.of();
    } catch (ConfigException e) {
      return e.problems();
    }
  }

  @ParameterizedTest(name = "{0} and {1}")
  @CsvSource(delimiter = '|', value = {
      "127.0.0.1:8443 | 127.0.0.1:8443 | the same address and port",
      "0.0.0.0:8443   | 127.0.0.1:8443 | the wildcard takes port 8443 on all addresses, IPv4 and IPv6",
      "127.0.0.1:8443 | 0.0.0.0:8443   | the wildcard takes port 8443 on all addresses, IPv4 and IPv6",
      "[::]:8443      | 127.0.0.1:8443 | the wildcard takes port 8443 on all addresses, IPv4 and IPv6",
      "0.0.0.0:8443   | [::1]:8443     | the wildcard takes port 8443 on all addresses, IPv4 and IPv6",
      "0.0.0.0:8443   | [::]:8443      | the wildcard takes port 8443 on all addresses, IPv4 and IPv6",
      "[::ffff:127.0.0.1]:8443 | 127.0.0.1:8443 | the same address and port",
      "[0:0:0:0:0:0:0:1]:8443  | [::1]:8443     | the same address and port",
      "localhost:8443 | LOCALHOST.:8443 | the same address and port",
      "0.0.0.0:8443   | db.internal:8443 | the wildcard takes port 8443 on all addresses, IPv4 and IPv6",
  })
  void listenersThatCannotBothBindAreAnErrorNamingBoth(String first, String second, String why) {
    assertEquals(List.of("listeners[1].listen: " + HostPort.parse(second) + " cannot listen beside "
        + "listeners[0].listen (" + HostPort.parse(first) + "): " + why + "; give one of them another port"),
        problems("127.0.0.1:0", first, second));
  }

  @ParameterizedTest(name = "{0} and {1}")
  @CsvSource(delimiter = '|', value = {
      "127.0.0.1:0    | 127.0.0.1:0",
      "0.0.0.0:0      | 127.0.0.1:0",
      "127.0.0.1:8443 | 127.0.0.1:8444",
      "127.0.0.1:8443 | 127.0.0.2:8443",
      "127.0.0.1:8443 | [::1]:8443",
      "localhost:8443 | 127.0.0.1:8443",
  })
  void addressesThatCanBothBindAreAccepted(String first, String second) {
    assertEquals(List.of(), problems("127.0.0.1:0", first, second));
  }

  @Test
  void listenerOnTheDefaultAdminAddressIsAnError() {
    assertEquals(List.of("listeners[0].listen: 0.0.0.0:9901 cannot listen beside admin.listen (127.0.0.1:9901, the "
        + "default): the wildcard takes port 9901 on all addresses, IPv4 and IPv6; give one of them another port"),
        problems(null, "0.0.0.0:9901"));
  }

  @Test
  void listenerOnTheAdminAddressIsAnErrorByCheck() throws IOException {
    Path file = Files.writeString(dir.resolve("clash.yaml"), """
        admin: {listen: '[::]:9901'}
        listeners:
          - {name: a, listen: 127.0.0.1:8443, upstream: {endpoints: [127.0.0.1:1]}}
          - {name: b, listen: 127.0.0.1:9901, upstream: {endpoints: [127.0.0.1:1]}}
          - {name: c, listen: 127.0.0.1:8443, upstream: {endpoints: [127.0.0.1:1]}}
        """);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = CheckAccess.run(new String[] {"--check", "--config", file.toString()},
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, code, err.toString(StandardCharsets.UTF_8));
    assertEquals("""
        listeners[1].listen: 127.0.0.1:9901 cannot listen beside admin.listen ([::]:9901): the wildcard takes port \
        9901 on all addresses, IPv4 and IPv6; give one of them another port
        listeners[2].listen: 127.0.0.1:8443 cannot listen beside listeners[0].listen (127.0.0.1:8443): the same \
        address and port; give one of them another port
        2 problems in %s
        """.formatted(file), err.toString(StandardCharsets.UTF_8));
  }

  /**
   * For every pair of these addresses, the configuration refuses the pair exactly when a second real socket
   * cannot bind beside the first on the same port (as the listeners bind: SO_REUSEADDR, no SO_REUSEPORT).
   */
  @Test
  void ruleAgreesWithTheKernel() throws IOException {
    Assumptions.assumeTrue(canBind("::1"), "no IPv6 loopback on this machine");
    List<String> hosts = List.of("127.0.0.1", "127.0.0.2", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1");
    List<String> disagreements = new ArrayList<>();
    for (String a : hosts) {
      for (String b : hosts) {
        try (ServerSocketChannel first = ServerSocketChannel.open()) {
          first.setOption(StandardSocketOptions.SO_REUSEADDR, true);
          first.bind(new InetSocketAddress(InetAddress.getByName(a), 0));
          int port = ((InetSocketAddress) first.getLocalAddress()).getPort();
          boolean kernelRefuses;
          try (ServerSocketChannel second = ServerSocketChannel.open()) {
            second.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            second.bind(new InetSocketAddress(InetAddress.getByName(b), port));
            kernelRefuses = false;
          } catch (java.net.BindException e) {
            kernelRefuses = true;
          }
          String hostA = a.indexOf(':') >= 0 ? "[" + a + "]" : a;
          String hostB = b.indexOf(':') >= 0 ? "[" + b + "]" : b;
          boolean configRefuses = !problems("127.0.0.1:0", hostA + ":" + port, hostB + ":" + port).isEmpty();
          if (kernelRefuses != configRefuses) {
            disagreements.add(a + " then " + b + ": kernel " + (kernelRefuses ? "refuses" : "binds") + ", config "
                + (configRefuses ? "refuses" : "accepts"));
          }
        }
      }
    }
    assertEquals(List.of(), disagreements);
  }

  private static boolean canBind(String host) {
    try (ServerSocketChannel s = ServerSocketChannel.open()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void eachAddressIsReportedOnceAgainstTheFirstItClashesWith() {
    assertEquals(List.of(
            "listeners[1].listen: 127.0.0.1:8443 cannot listen beside listeners[0].listen (127.0.0.1:8443): the same "
                + "address and port; give one of them another port",
            "listeners[2].listen: 0.0.0.0:8443 cannot listen beside listeners[0].listen (127.0.0.1:8443): the "
                + "wildcard takes port 8443 on all addresses, IPv4 and IPv6; give one of them another port"),
        problems("127.0.0.1:0", "127.0.0.1:8443", "127.0.0.1:8443", "0.0.0.0:8443"));
  }
}
