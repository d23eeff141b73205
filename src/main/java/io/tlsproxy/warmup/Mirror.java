package io.tlsproxy.warmup;

import io.tlsproxy.config.ClientTlsConfig;
import io.tlsproxy.config.HostPort;
import io.tlsproxy.config.LimitsConfig;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.config.UpstreamConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * A warm-up listener made from a configured one: the same mode, TLS policy (engine, protocols, ciphers, groups),
 * certificates and client-certificate demand, but listening on an ephemeral loopback port and forwarding to a
 * throwaway backend, verified against the warm-up CA. What it leaves out, because the warm-up cannot stand in
 * for the real peers: SNI routes (their upstreams would be real), PROXY headers in and out, limits, the client
 * allow-list, CRLs, key pins and SAN rules of the upstream.
 *
 * @param config     the warm-up listener's configuration
 * @param clientTls  whether the warm-up client speaks TLS to it (terminate and passthrough)
 * @param clientCert whether the listener asks for a client certificate (then the warm-up client presents one)
 * @param backendTls whether its backend speaks TLS (originate, and passthrough where the client's TLS goes through)
 */
record Mirror(ListenerConfig config, boolean clientTls, boolean clientCert, boolean backendTls) {

  /** The name prefix of warm-up listeners, so that any line they log is told apart from the real ones'. */
  static final String PREFIX = "warmup-";

  /** Whether mirroring {@code real} needs minted material: a TLS backend or a client certificate. */
  static boolean needsPki(ListenerConfig real) {
    return needsBackendTls(real)
        || (real.tls() != null && real.tls().clientAuth() != ServerTlsConfig.ClientAuth.NONE);
  }

  /** Whether the backend of {@code real}'s mirror speaks TLS: a TLS upstream, or the client's TLS passed through. */
  static boolean needsBackendTls(ListenerConfig real) {
    UpstreamConfig up = upstreamOf(real);
    return real.passthrough() || (up != null && up.tls() != null);
  }

  /**
   * The warm-up listener for {@code real}, listening on {@code host} port 0 and forwarding to {@code backend};
   * {@code pki} is null when {@link #needsPki} is false.
   */
  static Mirror of(ListenerConfig real, String host, HostPort backend, ThrowawayPki pki) {
    UpstreamConfig up = upstreamOf(real);
    ClientTlsConfig tls = up.tls() == null ? null : upstreamTls(up.tls(), pki.ca());
    UpstreamConfig upstream = new UpstreamConfig(List.of(backend), up.balance(), up.connectTimeout(), tls,
        UpstreamConfig.ProxyProtocolVersion.OFF, up.dnsTtl(), null);
    ServerTlsConfig server = real.tls() == null ? null : serverTls(real.tls(), pki == null ? null : pki.ca());
    ListenerConfig config = new ListenerConfig(PREFIX + real.name(), new HostPort(host, 0), server, upstream,
        real.idleTimeout(), real.maxConnectionLifetime(), ListenerConfig.ProxyProtocolMode.OFF, real.passthrough(),
        List.of(), LimitsConfig.NONE, ListenerConfig.DEFAULT_SOCKET_MODE);
    boolean clientCert = server != null && server.clientAuth() != ServerTlsConfig.ClientAuth.NONE;
    return new Mirror(config, server != null || real.passthrough(), clientCert,
        tls != null || real.passthrough());
  }

  /** The listener's own upstream, or the first route's when it has none (routes only). */
  private static UpstreamConfig upstreamOf(ListenerConfig real) {
    return real.upstream() != null ? real.upstream() : real.routes().get(0).upstream();
  }

  /**
   * Same certificates, policy and client-certificate demand; client certificates are checked against {@code ca}.
   * No key log (the warm-up's secrets are nobody's business) and no STARTTLS dialogue: TLS from the first byte.
   */
  private static ServerTlsConfig serverTls(ServerTlsConfig real, Path ca) {
    boolean asks = real.clientAuth() != ServerTlsConfig.ClientAuth.NONE;
    return new ServerTlsConfig(real.certificates(), real.policy(), real.clientAuth(), asks ? ca : null,
        real.handshakeTimeout(), null, null, null, real.sessionTicketKeyRotation(), null, null);
  }

  /**
   * Same policy, client certificate and handshake timeout; the backend is verified as {@link ThrowawayPki#SERVER_NAME}
   * against {@code ca}, with chain and name checks as configured (skipped only where the real one skips them).
   */
  private static ClientTlsConfig upstreamTls(ClientTlsConfig real, Path ca) {
    return new ClientTlsConfig(ThrowawayPki.SERVER_NAME, ca, real.cert(), real.key(), real.password(), real.policy(),
        real.insecureSkipVerify(), real.handshakeTimeout(), real.path(), null, List.of(), List.of(), List.of(), null,
        null, null);
  }
}
