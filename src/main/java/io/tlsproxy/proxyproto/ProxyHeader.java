package io.tlsproxy.proxyproto;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * What a PROXY header says about a connection: who connected to whom, and (version 2) extra facts as TLVs.
 * Addresses are present only for a {@link Command#PROXY} header of family {@link Family#TCP4} or
 * {@link Family#TCP6}; otherwise the receiver uses the socket's own addresses.
 *
 * @param source      the original client, or null
 * @param destination the address the client connected to, or null
 */
public record ProxyHeader(Command command, Family family, InetSocketAddress source,
                          InetSocketAddress destination, List<Tlv> tlvs) {

  /** {@code LOCAL} (version 2 only): the connection was made by the sender itself, e.g. a health check. */
  public enum Command { LOCAL, PROXY }

  /** TCP over IPv4 or IPv6; {@code UNKNOWN} for anything else (unspecified, UNIX sockets, datagrams). */
  public enum Family { TCP4, TCP6, UNKNOWN }

  public ProxyHeader {
    tlvs = List.copyOf(tlvs);
    boolean addressed = command == Command.PROXY && family != Family.UNKNOWN;
    if (!addressed && (source != null || destination != null)) {
      throw new IllegalArgumentException(command + "/" + family + " carries no addresses");
    }
    if (addressed) {
      Class<?> type = family == Family.TCP4 ? Inet4Address.class : Inet6Address.class;
      if (source == null || destination == null || !type.isInstance(source.getAddress())
          || !type.isInstance(destination.getAddress())) {
        throw new IllegalArgumentException(family + " needs a source and a destination of that family, got "
            + source + " and " + destination);
      }
    }
  }

  /**
   * A PROXY header for a TCP connection from {@code source} to {@code destination}. When one is IPv6 and the
   * other IPv4, the IPv4 one is written as an IPv4-mapped IPv6 address, since a header has a single family.
   */
  public static ProxyHeader tcp(InetSocketAddress source, InetSocketAddress destination, List<Tlv> tlvs) {
    InetAddress s = source.getAddress();
    InetAddress d = destination.getAddress();
    if (s instanceof Inet4Address && d instanceof Inet4Address) {
      return new ProxyHeader(Command.PROXY, Family.TCP4, source, destination, tlvs);
    }
    return new ProxyHeader(Command.PROXY, Family.TCP6, v6(s, source.getPort()), v6(d, destination.getPort()),
        tlvs);
  }

  /** A header that says nothing about addresses: LOCAL in version 2, UNKNOWN in version 1. */
  public static ProxyHeader local() {
    return new ProxyHeader(Command.LOCAL, Family.UNKNOWN, null, null, List.of());
  }

  /** A PROXY header of an unknown family: the receiver uses the socket's addresses, but gets the TLVs. */
  public static ProxyHeader unknown(List<Tlv> tlvs) {
    return new ProxyHeader(Command.PROXY, Family.UNKNOWN, null, null, tlvs);
  }

  /** True when the header names the original endpoints. */
  public boolean hasAddresses() {
    return source != null;
  }

  public Optional<Tlv> tlv(int type) {
    return tlvs.stream().filter(t -> t.type() == type).findFirst();
  }

  /** This header with {@code more} TLVs after its own. */
  public ProxyHeader withMoreTlvs(List<Tlv> more) {
    List<Tlv> all = new java.util.ArrayList<>(tlvs);
    all.addAll(more);
    return new ProxyHeader(command, family, source, destination, all);
  }

  /** The client's certificate in DER ({@link Tlv#CLIENT_CERT}), if the sender sent it. */
  public Optional<byte[]> clientCertificate() {
    return tlv(Tlv.CLIENT_CERT).map(Tlv::value);
  }

  /** The URI SANs of the client's certificate ({@link Tlv#CLIENT_URI}), in order; empty if none were sent. */
  public List<String> clientUris() {
    return texts(Tlv.CLIENT_URI);
  }

  /** The DNS SANs of the client's certificate ({@link Tlv#CLIENT_DNS}), in order; empty if none were sent. */
  public List<String> clientDnsNames() {
    return texts(Tlv.CLIENT_DNS);
  }

  private List<String> texts(int type) {
    return tlvs.stream().filter(t -> t.type() == type).map(Tlv::text).toList();
  }

  /** The application protocol the client negotiated (ALPN), if the sender told. */
  public Optional<String> alpn() {
    return tlv(Tlv.ALPN).map(Tlv::text);
  }

  /** The host name the client asked for (TLS SNI), if the sender told. */
  public Optional<String> authority() {
    return tlv(Tlv.AUTHORITY).map(Tlv::text);
  }

  /** The client's TLS facts, if the sender terminated TLS and told. Present only in a decoded, valid header. */
  public Optional<SslTlv> ssl() {
    Optional<Tlv> t = tlv(Tlv.SSL);
    if (t.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(SslTlv.parse(t.get().value()));
    } catch (HeaderException e) {
      return Optional.empty();
    }
  }

  static InetSocketAddress v6(InetAddress a, int port) {
    if (a instanceof Inet6Address) {
      return new InetSocketAddress(withoutScope(a.getAddress()), port);
    }
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xFF;
    mapped[11] = (byte) 0xFF;
    System.arraycopy(a.getAddress(), 0, mapped, 12, 4);
    return new InetSocketAddress(withoutScope(mapped), port);
  }

  /** An {@link Inet6Address} even for IPv4-mapped bytes (which {@code InetAddress.getByAddress} turns into IPv4). */
  static Inet6Address withoutScope(byte[] sixteen) {
    try {
      return Inet6Address.getByAddress(null, sixteen, -1);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("an IPv6 address has 16 bytes, got " + sixteen.length, e);
    }
  }
}
