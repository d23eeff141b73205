package io.tlsproxy.upstream;

import io.netty.util.NetUtil;
import io.tlsproxy.config.Address;
import io.tlsproxy.config.HealthCheckConfig;
import io.tlsproxy.config.HostPort;
import io.tlsproxy.transport.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One address to dial for a configured endpoint: the endpoint itself when it is an IP literal or a Unix socket,
 * one of the addresses its host name resolved to, or the bare name when it has never resolved (the dial then
 * resolves it and reports {@code dns} if that fails). It carries what balancing and health checks know about that
 * address, so that a re-resolution that keeps the address keeps its state.
 */
public final class UpstreamTarget {

  private final Address endpoint;
  private final InetAddress address;
  private final String description;
  private final AtomicInteger active = new AtomicInteger();
  private volatile boolean healthy = true;
  // Written only by the health checker, on its event loop.
  private int successes;
  private int failures;
  private boolean checking;

  /** {@code address} null: the endpoint's host name has not resolved, or the endpoint is a Unix socket. */
  UpstreamTarget(Address endpoint, InetAddress address) {
    this.endpoint = endpoint;
    this.address = address == null ? null : withoutName(address);
    this.description = address == null || !hasName(endpoint) ? endpoint.toString()
        : endpoint + "@" + NetUtil.toAddressString(address);
  }

  static boolean isLiteral(String host) {
    return NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
  }

  /** Whether the endpoint is a host name, the only kind that is resolved (not an IP literal, not a Unix socket). */
  static boolean hasName(Address endpoint) {
    return endpoint instanceof HostPort hp && !isLiteral(hp.host());
  }

  /** The target of an IP-literal or Unix socket endpoint, or null when its host is a name. */
  static UpstreamTarget literal(Address endpoint) {
    if (hasName(endpoint)) {
      return null;
    }
    return endpoint instanceof HostPort hp
        ? new UpstreamTarget(hp, NetUtil.createInetAddressFromIpAddressString(hp.host()))
        : new UpstreamTarget(endpoint, null);
  }

  /** Without its host name, so that the dial connects to this address instead of resolving the name again. */
  private static InetAddress withoutName(InetAddress a) {
    try {
      return InetAddress.getByAddress(a.getAddress());
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e); // only for a byte array of a wrong length
    }
  }

  public Address endpoint() {
    return endpoint;
  }

  /**
   * The host name TLS sends as SNI and verifies when no {@code serverName} is configured; null for a Unix socket,
   * which has none (the configuration then requires {@code serverName} or {@code insecureSkipVerify}).
   */
  public String peerHost() {
    return endpoint instanceof HostPort hp ? hp.host() : null;
  }

  /** The port TLS session caching keys on; -1 for a Unix socket. */
  public int peerPort() {
    return endpoint instanceof HostPort hp ? hp.port() : -1;
  }

  InetAddress address() {
    return address;
  }

  /**
   * The address to dial: the socket of a Unix endpoint; unresolved when the name has not resolved yet, so that the
   * dial resolves it.
   */
  public SocketAddress socketAddress() {
    return address == null ? Transport.socketAddress(endpoint)
        : new InetSocketAddress(address, ((HostPort) endpoint).port());
  }

  int active() {
    return active.get();
  }

  void acquire() {
    active.incrementAndGet();
  }

  void release() {
    active.decrementAndGet();
  }

  boolean healthy() {
    return healthy;
  }

  /** False when a check of this target is still running; then none is started. */
  boolean startCheck() {
    if (checking) {
      return false;
    }
    checking = true;
    return true;
  }

  /** Counts one check; returns true when that changed whether this target is healthy. */
  boolean endCheck(boolean ok, HealthCheckConfig cfg) {
    checking = false;
    if (ok) {
      failures = 0;
      successes++;
      if (!healthy && successes >= cfg.healthyThreshold()) {
        healthy = true;
        return true;
      }
    } else {
      successes = 0;
      failures++;
      if (healthy && failures >= cfg.unhealthyThreshold()) {
        healthy = false;
        return true;
      }
    }
    return false;
  }

  /** The endpoint as configured, with the address dialled when that came from resolving a name. */
  @Override
  public String toString() {
    return description;
  }
}
