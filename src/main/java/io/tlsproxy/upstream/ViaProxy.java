package io.tlsproxy.upstream;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.proxy.HttpProxyHandler;
import io.netty.handler.proxy.ProxyConnectException;
import io.netty.handler.proxy.ProxyHandler;
import io.netty.handler.proxy.Socks5ProxyHandler;
import io.tlsproxy.config.ViaConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;

/**
 * The egress proxy side of a dial: Netty's own proxy handlers for HTTP CONNECT and SOCKS5, and the reason a
 * tunnel failed ({@code proxy_refused}, {@code proxy_auth}, {@code proxy_timeout}) for logs and metrics.
 */
final class ViaProxy {

  static final String PROXY_REFUSED = "proxy_refused";
  static final String PROXY_AUTH = "proxy_auth";
  static final String PROXY_TIMEOUT = "proxy_timeout";

  private ViaProxy() {
  }

  /** A handler that connects to the proxy at {@code proxy} and asks it for a tunnel to the address dialled. */
  static ProxyHandler handler(ViaConfig via, InetSocketAddress proxy) {
    ProxyHandler h = switch (via.type()) {
      case HTTP_CONNECT -> via.authenticates() ? new HttpProxyHandler(proxy, via.username(), via.password())
          : new HttpProxyHandler(proxy);
      // Given an unresolved target, Netty's handler sends the host name (ATYP DOMAINNAME, RFC 1928 section 5),
      // so the proxy resolves it; see Dialer for why.
      case SOCKS5 -> via.authenticates() ? new Socks5ProxyHandler(proxy, via.username(), via.password())
          : new Socks5ProxyHandler(proxy);
    };
    // The dial's own deadline covers the TCP connect and the handshake together; Netty's would start after it.
    h.setConnectTimeoutMillis(0);
    return h;
  }

  /**
   * {@code cause} as an {@link EgressProxyException} carrying its reason; a failure to resolve the proxy's name
   * stays as it is (reason {@code dns}). Netty reports what the proxy answered only in its exception messages
   * ({@code status: 407 ...}, {@code authStatus: FAILURE(1)}, {@code unexpected authMethod: UNACCEPTED(255)}):
   * {@code EgressProxyIT} gets each answer from a real squid and danted, so a change of wording fails a test.
   */
  static Throwable classify(Throwable cause, ViaConfig via) {
    if (cause instanceof EgressProxyException) {
      return cause;
    }
    String reason = null;
    for (Throwable c = cause; c != null && reason == null; c = c.getCause()) {
      if (c instanceof UnknownHostException) {
        return cause;
      } else if (c instanceof ProxyConnectException p) {
        reason = reason(p);
      } else if (c instanceof ConnectTimeoutException || c instanceof SocketTimeoutException) {
        reason = PROXY_TIMEOUT;
      } else if (c instanceof ConnectException || c instanceof IOException) {
        reason = PROXY_REFUSED; // the proxy refused or reset the TCP connection
      }
    }
    if (reason == null) {
      return cause;
    }
    return new EgressProxyException(reason, via.describe() + ": " + cause.getMessage(), cause);
  }

  private static String reason(ProxyConnectException p) {
    String m = String.valueOf(p.getMessage());
    if (p instanceof HttpProxyHandler.HttpProxyConnectException) {
      // RFC 9110 section 15.5.8: 407 asks for (other) proxy credentials; any other non-2xx refuses the tunnel.
      return m.contains("status: 407") ? PROXY_AUTH : PROXY_REFUSED;
    }
    if (m.contains("authStatus:") || m.contains("authMethod:")) {
      // RFC 1929 status non-zero, or no method in common (X'FF', RFC 1928 section 3): credentials refused/missing.
      return PROXY_AUTH;
    }
    return m.endsWith("timeout") ? PROXY_TIMEOUT : PROXY_REFUSED;
  }

  /** A dial through an egress proxy failed for {@link #reason()}. */
  static final class EgressProxyException extends IOException {
    private final String reason;

    EgressProxyException(String reason, String message, Throwable cause) {
      super(reason + ": " + message, cause);
      this.reason = reason;
    }

    String reason() {
      return reason;
    }
  }
}
