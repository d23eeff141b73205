package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyHarness;
import io.tlsproxy.testkit.Scrape;
import io.tlsproxy.testkit.TestServer;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code balance: least-connections}: new connections go to the endpoint with fewer open ones. */
class UpstreamBalanceIT {

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();
  private final List<Socket> held = new ArrayList<>();
  private ProxyHarness proxy;

  /** Opens a connection through the proxy and keeps it open; returns the greeting of the backend behind it. */
  private String hold() throws Exception {
    Socket s = fx.closing(Clients.plain(proxy.port("lc")));
    held.add(s);
    return Clients.readLine(s);
  }

  @Test
  void newConnectionsGoToTheEndpointWithFewerOpenOnes() throws Exception {
    TestServer a = fx.backend(TestServer.greeting("a"));
    TestServer b = fx.backend(TestServer.greeting("b"));
    proxy = fx.start("""
        listeners:
          - name: lc
            listen: 127.0.0.1:0
            upstream: {endpoints: [127.0.0.1:%d, 127.0.0.1:%d], balance: least-connections}
        """.formatted(a.port(), b.port()));
    List<String> first = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      first.add(hold());
    }
    assertEquals(3, first.stream().filter("a"::equals).count(), "equal counts alternate: " + first);

    // Close the three on b: a keeps three open connections, b has none.
    for (int i = held.size() - 1; i >= 0; i--) {
      if (first.get(i).equals("b")) {
        held.remove(i).close();
      }
    }
    Await.until("the proxy has closed the three connections to b", Duration.ofSeconds(10),
        () -> active() == 3 && b.openConnections() == 0);
    List<String> next = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      next.add(hold());
    }
    assertEquals(List.of("b", "b", "b"), next, "round-robin would have sent some to a");
    assertEquals(3, a.openConnections());
    assertEquals(3, b.openConnections());
  }

  private double active() {
    try {
      return Scrape.of(proxy.adminPort()).sum("tlsproxy_connections_active", "listener", "lc");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
