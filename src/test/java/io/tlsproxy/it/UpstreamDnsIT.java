package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Endpoint host names are re-resolved: the proxy runs as its own JVM whose resolver reads a hosts file of this
 * test ({@code -Djdk.net.hosts.file}, read again at every lookup), and the test changes which loopback address a
 * name has. Backend "a" listens on 127.0.0.1 and backend "b" on 127.0.0.2, on the same port, and each greets its
 * clients with its name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpstreamDnsIT {

  private static final String A = "127.0.0.1";
  private static final String B = "127.0.0.2";

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private Path hosts;
  private final Map<String, List<String>> names = new TreeMap<>();
  private TestServer a;
  private ProxyProcess proxy;

  @BeforeAll
  void start() throws Exception {
    a = fx.backend(TestServer.greeting("a"));
    TestServer b = fx.closing(TestServer.plainOn(InetAddress.getByName(B), a.port(), TestServer.greeting("b")));
    hosts = fx.dir().resolve("hosts");
    names.put("ttl.test", List.of(A));
    names.put("every.test", List.of(A));
    names.put("spread.test", List.of(A));
    names.put("gone.test", List.of(A));
    writeHosts();
    proxy = fx.startProcess("""
        listeners:
          - name: ttl
            listen: 127.0.0.1:0
            upstream: {endpoints: ["ttl.test:%1$d"], dnsTtl: 1s}
          - name: every
            listen: 127.0.0.1:0
            upstream: {endpoints: ["every.test:%1$d"], dnsTtl: 0}
          - name: spread
            listen: 127.0.0.1:0
            upstream: {endpoints: ["spread.test:%1$d"], dnsTtl: 200ms, balance: round-robin}
          - name: gone
            listen: 127.0.0.1:0
            upstream: {endpoints: ["gone.test:%1$d"], dnsTtl: 200ms}
        """.formatted(a.port()), 4, "-Djdk.net.hosts.file=" + hosts);
  }

  /** Replaces the hosts file in one step, so that the proxy never reads half of it. */
  private synchronized void writeHosts() throws IOException {
    StringBuilder text = new StringBuilder();
    names.forEach((name, addresses) -> addresses.forEach(ip -> text.append(ip).append(' ').append(name).append('\n')));
    Path tmp = hosts.resolveSibling("hosts.tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, hosts, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private synchronized void setName(String name, String... addresses) throws IOException {
    if (addresses.length == 0) {
      names.remove(name);
    } else {
      names.put(name, List.of(addresses));
    }
    writeHosts();
  }

  private String servedBy(String listener) throws IOException {
    try (Socket s = Clients.plain(proxy.port(listener))) {
      return Clients.readLine(s);
    }
  }

  @Test
  void addressChangeIsFollowedWithinTheTtl() throws Exception {
    assertEquals("a", servedBy("ttl"));
    setName("ttl.test", B);
    long changed = System.nanoTime();
    // dnsTtl is 1 s: the next re-resolution is at most that far away; the rest is slack for a loaded machine.
    Await.until("connections reach the new address", Duration.ofSeconds(5), () -> {
      try {
        return servedBy("ttl").equals("b");
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    });
    long tookMs = (System.nanoTime() - changed) / 1_000_000;
    assertEquals("b", servedBy("ttl"), "and stay there");
    proxy.awaitLine(Duration.ofSeconds(5), "listener=ttl upstream ttl.test:" + a.port() + " resolves to [" + B + "]");
    assertTrue(tookMs < 5000, tookMs + " ms");
  }

  @Test
  void zeroTtlResolvesForEveryConnection() throws Exception {
    assertEquals("a", servedBy("every"));
    setName("every.test", B);
    assertEquals("b", servedBy("every"), "the very next connection uses the new address");
    setName("every.test", A);
    assertEquals("a", servedBy("every"));
  }

  @Test
  void connectionsSpreadOverEveryAddressOfAName() throws Exception {
    setName("spread.test", A, B);
    proxy.awaitLine(Duration.ofSeconds(5), "listener=spread upstream spread.test:" + a.port() + " resolves to [" + A
        + ", " + B + "]");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 4; i++) {
      seen.add(servedBy("spread"));
    }
    assertEquals(Set.of("a", "b"), seen);
  }

  @Test
  void nameThatStopsResolvingKeepsItsLastAddressAndIsCounted() throws Exception {
    assertEquals("a", servedBy("gone"));
    setName("gone.test");
    proxy.awaitLine(Duration.ofSeconds(5), "listener=gone upstream gone.test:" + a.port() + " did not resolve",
        "keeping [" + A + "]");
    Await.until("failed resolutions are counted", Duration.ofSeconds(5), () -> {
      try {
        return Scrape.of(proxy.adminPort()).sum("tlsproxy_upstream_resolve_failures_total", "listener", "gone",
            "endpoint", "gone.test:" + a.port()) >= 2;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    assertEquals("a", servedBy("gone"), "the last good address is still used");
    setName("gone.test", A);
    proxy.awaitLine(Duration.ofSeconds(5), "listener=gone upstream gone.test:" + a.port() + " resolves again");
  }
}
