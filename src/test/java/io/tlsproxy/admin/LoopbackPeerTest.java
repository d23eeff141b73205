package io.tlsproxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which peers may ask the admin endpoint to quit: loopback addresses of either family, and nothing else, whatever
 * the spelling; never a look-up of a name.
 */
class LoopbackPeerTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "127.0.0.1, true",
      "127.255.255.254, true",
      "::1, true",
      "0:0:0:0:0:0:0:1, true",
      "::ffff:127.0.0.1, true",
      "192.0.2.2, false",
      "10.0.0.1, false",
      "0.0.0.0, false",
      "::, false",
      "fd00::2, false",
      "::ffff:10.0.0.1, false",
      "128.0.0.1, false",
      "localhost, false",
  })
  void onlyLoopbackPeersMayQuit(String host, boolean loopback) {
    assertEquals(loopback, AdminServer.isLoopback(SocketAddress.inetSocketAddress(40000, host)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"/run/tlsproxy.sock"})
  void aDomainSocketPeerMayNot(String path) {
    assertEquals(false, AdminServer.isLoopback(SocketAddress.domainSocketAddress(path)));
    assertEquals(false, AdminServer.isLoopback(null));
  }
}
