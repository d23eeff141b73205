package io.tlsproxy.upstream;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.tlsproxy.auth.Identities;
import io.tlsproxy.config.UpstreamConfig.ProxyProtocolVersion;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.proxyproto.ProxyHeaderEncoder;
import io.tlsproxy.proxyproto.SslTlv;
import io.tlsproxy.proxyproto.Tlv;
import io.tlsproxy.tls.engine.TlsSessions;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.StandardConstants;

/**
 * The PROXY header sent to an upstream: the original client and the address it connected to (from the header a
 * load balancer sent, else from the downstream socket) and, in version 2 when the client spoke TLS to us, what
 * that TLS connection was (version, cipher, SNI, ALPN, client certificate CN), as HAProxy's
 * {@code send-proxy-v2-ssl-cn} sends them.
 */
public final class OnwardProxyHeader {

  /** Longer values are left out rather than truncated: a TLV must not say something the client did not. */
  private static final int MAX_TEXT_TLV = 255;

  private OnwardProxyHeader() {
  }

  /**
   * @param accepted       the load balancer's header, or null
   * @param handshakeStart when the downstream handshake began, to tell a resumed session's certificate apart
   */
  public static byte[] encode(ProxyProtocolVersion version, ProxyHeader accepted, Channel down, long handshakeStart) {
    List<Tlv> tlvs = version == ProxyProtocolVersion.V2 ? tlsTlvs(down, handshakeStart) : List.of();
    SocketAddress src = accepted != null ? accepted.source() : down.remoteAddress();
    SocketAddress dst = accepted != null ? accepted.destination() : down.localAddress();
    // A client that came in over a Unix socket (and without a load balancer's header naming it) has no IP address
    // to pass on: its socket is usually unnamed. The PROXY protocol specification (haproxy doc/proxy-protocol.txt)
    // prescribes for such a connection "PROXY UNKNOWN" in version 1 (section 2.1, "other, unsupported, or unknown
    // protocols") and, in version 2, the AF_UNSPEC family (section 2.2: the sender "should use this family ...
    // when dealing with unsupported protocol families"; the receiver then uses the real connection's addresses).
    // The command stays PROXY rather than LOCAL: LOCAL means the proxy's own connection (a health check) and tells
    // the receiver to discard the block, the TLS TLVs included, which a relayed client's connection must keep.
    ProxyHeader h = src instanceof InetSocketAddress s && dst instanceof InetSocketAddress d
        && s.getAddress() != null && d.getAddress() != null ? ProxyHeader.tcp(s, d, tlvs) : ProxyHeader.unknown(tlvs);
    return version == ProxyProtocolVersion.V1 ? ProxyHeaderEncoder.v1(h) : ProxyHeaderEncoder.v2(h);
  }

  /**
   * What a health check sends an upstream that expects a PROXY header: LOCAL in version 2 (the proxy's own
   * connection), UNKNOWN in version 1, as the specification says for such connections; null for no header.
   */
  static byte[] forHealthCheck(ProxyProtocolVersion version) {
    return switch (version == null ? ProxyProtocolVersion.OFF : version) {
      case OFF -> null;
      case V1 -> ProxyHeaderEncoder.v1(ProxyHeader.local());
      case V2 -> ProxyHeaderEncoder.v2(ProxyHeader.local());
    };
  }

  private static List<Tlv> tlsTlvs(Channel down, long handshakeStart) {
    SslHandler ssl = down.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return List.of();
    }
    SSLSession session = ssl.engine().getSession();
    List<Tlv> out = new ArrayList<>(3);
    String alpn = ssl.applicationProtocol();
    if (alpn != null && fits(alpn)) {
      out.add(Tlv.text(Tlv.ALPN, alpn));
    }
    String sni = requestedServerName(session);
    if (sni != null && fits(sni)) {
      out.add(Tlv.text(Tlv.AUTHORITY, sni));
    }
    X509Certificate peer = peerCertificate(session);
    String cn = null;
    if (peer != null) {
      List<String> cns = Identities.commonNames(peer);
      cn = cns.isEmpty() || !fits(cns.get(0)) ? null : cns.get(0);
    }
    boolean resumed = TlsSessions.resumed(down.pipeline().get(SslHandler.class).engine(), session, handshakeStart);
    out.add(SslTlv.of(session.getProtocol(), session.getCipherSuite(), cn, peer != null && !resumed, peer != null)
        .toTlv());
    return out;
  }

  private static boolean fits(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length <= MAX_TEXT_TLV;
  }

  private static String requestedServerName(SSLSession session) {
    if (session instanceof ExtendedSSLSession e) {
      for (SNIServerName n : e.getRequestedServerNames()) {
        if (n instanceof SNIHostName h) {
          return h.getAsciiName();
        }
        if (n.getType() == StandardConstants.SNI_HOST_NAME) {
          return new String(n.getEncoded(), StandardCharsets.US_ASCII);
        }
      }
    }
    return null;
  }

  private static X509Certificate peerCertificate(SSLSession session) {
    try {
      Certificate[] certs = session.getPeerCertificates();
      return certs.length > 0 && certs[0] instanceof X509Certificate x ? x : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }
}
