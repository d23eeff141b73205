package io.tlsproxy.proxyproto;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The content of a {@link Tlv#SSL} entry: how the client connected over TLS. {@code client} is a bit field
 * ({@link #CLIENT_SSL}, {@link #CLIENT_CERT_CONN}, {@link #CLIENT_CERT_SESS}); {@code verify} is 0 when the client
 * presented a certificate and it was verified, non-zero otherwise; sub-TLVs carry the version, cipher, client
 * certificate common name and so on.
 */
public record SslTlv(int client, long verify, List<Tlv> subTlvs) {

  /** The client connected over TLS. */
  public static final int CLIENT_SSL = 0x01;
  /** The client presented a certificate on this connection. */
  public static final int CLIENT_CERT_CONN = 0x02;
  /** The client presented a certificate at least once in the TLS session this connection belongs to. */
  public static final int CLIENT_CERT_SESS = 0x04;

  /** One byte of client flags and four of verify result come before the sub-TLVs. */
  static final int FIXED = 5;

  public SslTlv {
    if (client < 0 || client > 0xFF) {
      throw new IllegalArgumentException("client flags must fit one byte, got " + client);
    }
    if (verify < 0 || verify > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("verify must fit 32 bits unsigned, got " + verify);
    }
    subTlvs = List.copyOf(subTlvs);
  }

  /**
   * The facts of a TLS connection, as a proxy that terminated it reports them. {@code commonName} is null when
   * the client presented no certificate; {@code version} and {@code cipher} may be null when unknown.
   */
  public static SslTlv of(String version, String cipher, String commonName, boolean certificateOnConnection,
                          boolean certificateInSession) {
    int client = CLIENT_SSL | (certificateOnConnection ? CLIENT_CERT_CONN : 0)
        | (certificateInSession ? CLIENT_CERT_SESS : 0);
    List<Tlv> subs = new ArrayList<>(3);
    if (version != null) {
      subs.add(Tlv.text(Tlv.SSL_VERSION, version));
    }
    if (cipher != null) {
      subs.add(Tlv.text(Tlv.SSL_CIPHER, cipher));
    }
    if (commonName != null) {
      subs.add(Tlv.text(Tlv.SSL_CN, commonName));
    }
    boolean verified = certificateOnConnection || certificateInSession;
    return new SslTlv(client, verified ? 0 : 1, subs);
  }

  public Optional<String> version() {
    return sub(Tlv.SSL_VERSION);
  }

  public Optional<String> cipher() {
    return sub(Tlv.SSL_CIPHER);
  }

  public Optional<String> commonName() {
    return sub(Tlv.SSL_CN);
  }

  private Optional<String> sub(int type) {
    return subTlvs.stream().filter(t -> t.type() == type).findFirst().map(Tlv::text);
  }

  /** This entry as a TLV of type {@link Tlv#SSL}. */
  public Tlv toTlv() {
    int size = FIXED;
    for (Tlv t : subTlvs) {
      size += 3 + t.length();
    }
    byte[] v = new byte[size];
    v[0] = (byte) client;
    v[1] = (byte) (verify >>> 24);
    v[2] = (byte) (verify >>> 16);
    v[3] = (byte) (verify >>> 8);
    v[4] = (byte) verify;
    BinaryHeader.writeTlvs(subTlvs, v, FIXED);
    return new Tlv(Tlv.SSL, v);
  }

  /** Reads the value of an SSL TLV; its sub-TLVs must fill it exactly. */
  static SslTlv parse(byte[] v) throws HeaderException {
    if (v.length < FIXED) {
      throw new HeaderException(HeaderError.BAD_TLV, "SSL TLV of " + v.length + " bytes, needs at least " + FIXED);
    }
    long verify = ((v[1] & 0xFFL) << 24) | ((v[2] & 0xFF) << 16) | ((v[3] & 0xFF) << 8) | (v[4] & 0xFF);
    return new SslTlv(v[0] & 0xFF, verify, BinaryHeader.readTlvs(v, FIXED, v.length, "SSL sub-TLV"));
  }
}
