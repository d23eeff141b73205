package io.tlsproxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.proxy.HttpProxyHandler;
import io.netty.handler.proxy.ProxyConnectException;
import io.tlsproxy.config.HostPort;
import io.tlsproxy.config.ViaConfig;
import java.net.ConnectException;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

/**
 * The reason a tunnel failed, from what Netty's proxy handlers report (their messages as written by Netty 4.2,
 * which EgressProxyIT gets from real proxies), and that a password never reaches a message.
 */
class ViaProxyTest {

  private static final ViaConfig HTTP = new ViaConfig(ViaConfig.Type.HTTP_CONNECT, new HostPort("p", 3128), "alice",
      "pw-never-shown", "listeners[0].upstream.via");
  private static final ViaConfig SOCKS = new ViaConfig(ViaConfig.Type.SOCKS5, new HostPort("p", 1080), null, null,
      "listeners[0].upstream.via");

  private static String reason(Throwable t, ViaConfig via) {
    return Dialer.failureReason(ViaProxy.classify(t, via));
  }

  private static HttpProxyHandler.HttpProxyConnectException http(String status) {
    return new HttpProxyHandler.HttpProxyConnectException("http, basic, p/127.0.0.1:3128 => localhost:443, "
        + "status: " + status, EmptyHttpHeaders.INSTANCE);
  }

  @Test
  void http407AsksForCredentialsAnyOtherStatusRefuses() {
    assertEquals("proxy_auth", reason(http("407 Proxy Authentication Required"), HTTP));
    assertEquals("proxy_refused", reason(http("403 Forbidden"), HTTP));
    assertEquals("proxy_refused", reason(http("503 Service Unavailable"), HTTP));
  }

  @Test
  void socksAuthenticationFailuresAreAuthOtherRepliesRefuse() {
    assertEquals("proxy_auth", reason(new ProxyConnectException("socks5, password, p => localhost:443, "
        + "authStatus: FAILURE(1)"), SOCKS));
    assertEquals("proxy_auth", reason(new ProxyConnectException("socks5, none, p => localhost:443, "
        + "unexpected authMethod: UNACCEPTED(255)"), SOCKS));
    assertEquals("proxy_refused", reason(new ProxyConnectException("socks5, none, p => localhost:443, "
        + "status: FORBIDDEN(2)"), SOCKS));
    assertEquals("proxy_refused", reason(new ProxyConnectException("socks5, none, p => localhost:443, "
        + "disconnected"), SOCKS));
  }

  @Test
  void theProxysTcpPortRefusingOrNotAnsweringIsAProxyFailure() {
    assertEquals("proxy_refused", reason(new ConnectException("Connection refused"), SOCKS));
    assertEquals("proxy_timeout", reason(new ConnectTimeoutException("connection timed out"), SOCKS));
  }

  @Test
  void aProxyNameThatDoesNotResolveStaysDns() {
    UnknownHostException e = new UnknownHostException("proxy.invalid");
    assertSame(e, ViaProxy.classify(e, HTTP));
    assertEquals("dns", reason(e, HTTP));
  }

  @Test
  void theMessageNamesTheProxyAndUserButNotThePassword() {
    String m = ViaProxy.classify(http("407 Proxy Authentication Required"), HTTP).getMessage();
    assertEquals("proxy_auth: http-connect p:3128 (user alice): http, basic, p/127.0.0.1:3128 => localhost:443, "
        + "status: 407 Proxy Authentication Required", m);
    assertFalse(m.contains("pw-never-shown"));
  }
}
