package io.tlsproxy.upstream;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.tlsproxy.auth.Identities;
import io.tlsproxy.config.UpstreamConfig.ProxyProtocolTlv;
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
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
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
 * {@code send-proxy-v2-ssl-cn} sends them; and, only where {@code proxyProtocolTlvs} asks, who the client is
 * by its certificate: the certificate itself, its URI SANs (SPIFFE IDs), its DNS SANs.
 */
public final class OnwardProxyHeader {

  private static final Logger LOG = Logger.getLogger("tlsproxy.upstream");

  /** Longer values are left out rather than truncated: a TLV must not say something the client did not. */
  private static final int MAX_TEXT_TLV = 255;

  /** Identity TLVs left out because the header's 16-bit length could not hold them; the first one is a warning. */
  private static final AtomicLong OMITTED = new AtomicLong();

  private OnwardProxyHeader() {
  }

  /**
   * @param identity       the client identity TLVs to add in version 2 when the client presented a certificate
   * @param accepted       the load balancer's header, or null
   * @param handshakeStart when the downstream handshake began, to tell a resumed session's certificate apart
   */
  public static byte[] encode(ProxyProtocolVersion version, List<ProxyProtocolTlv> identity, ProxyHeader accepted,
                              Channel down, long handshakeStart) {
    SslHandler ssl = version == ProxyProtocolVersion.V2 ? down.pipeline().get(SslHandler.class) : null;
    X509Certificate peer = ssl == null ? null : peerCertificate(ssl.engine().getSession());
    List<Tlv> tlvs = ssl == null ? List.of() : tlsTlvs(ssl, peer, handshakeStart);
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
    if (version == ProxyProtocolVersion.V1) {
      return ProxyHeaderEncoder.v1(h);
    }
    if (peer != null && !identity.isEmpty()) {
      h = h.withMoreTlvs(fitting(identityTlvs(peer, identity), ProxyHeaderEncoder.v2Room(h)));
    }
    return ProxyHeaderEncoder.v2(h);
  }

  /**
   * The client identity TLVs {@code wanted} asks for, in the order of the {@code ProxyProtocolTlv} constants:
   * certificate, URIs, DNS names. A certificate whose encoding fails is left out (it was verified, so this is
   * not expected).
   */
  static List<Tlv> identityTlvs(X509Certificate peer, List<ProxyProtocolTlv> wanted) {
    List<Tlv> out = new ArrayList<>();
    for (ProxyProtocolTlv t : ProxyProtocolTlv.values()) {
      if (!wanted.contains(t)) {
        continue;
      }
      switch (t) {
        case CLIENT_CERT -> {
          try {
            byte[] der = peer.getEncoded();
            if (der.length <= Tlv.MAX_VALUE) {
              out.add(new Tlv(Tlv.CLIENT_CERT, der));
            } else {
              omitted(Tlv.CLIENT_CERT, der.length);
            }
          } catch (CertificateEncodingException e) {
            LOG.log(Level.FINE, "client certificate cannot be encoded for the PROXY header", e);
          }
        }
        case CLIENT_URIS -> Identities.uris(peer).forEach(u -> out.add(Tlv.text(Tlv.CLIENT_URI, u)));
        case CLIENT_DNS -> Identities.dnsNames(peer).forEach(d -> out.add(Tlv.text(Tlv.CLIENT_DNS, d)));
        default -> throw new IllegalStateException("unhandled " + t);
      }
    }
    return out;
  }

  /**
   * The TLVs of {@code candidates} that fit in {@code room} bytes, in order: one that does not fit is left out
   * whole (never a corrupt or truncated header), counted and, the first time in the process, logged as a warning.
   */
  static List<Tlv> fitting(List<Tlv> candidates, int room) {
    List<Tlv> out = new ArrayList<>(candidates.size());
    for (Tlv t : candidates) {
      int need = 3 + t.length();
      if (need <= room) {
        out.add(t);
        room -= need;
      } else {
        omitted(t.type(), t.length());
      }
    }
    return out;
  }

  private static void omitted(int type, int length) {
    long n = OMITTED.incrementAndGet();
    String what = "PROXY header TLV 0x" + Integer.toHexString(type) + " of " + length + " bytes left out: a version "
        + "2 header holds at most 65535 bytes after its first 16";
    if (n == 1) {
      LOG.warning(what + " (logged once; later ones at debug level with their count)");
    } else {
      LOG.fine(what + " (" + n + " so far)");
    }
  }

  /** How many identity TLVs were left out so far for want of room in the header. */
  static long omittedSoFar() {
    return OMITTED.get();
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

  private static List<Tlv> tlsTlvs(SslHandler ssl, X509Certificate peer, long handshakeStart) {
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
    String cn = null;
    if (peer != null) {
      List<String> cns = Identities.commonNames(peer);
      cn = cns.isEmpty() || !fits(cns.get(0)) ? null : cns.get(0);
    }
    boolean resumed = TlsSessions.resumed(ssl.engine(), session, handshakeStart);
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
