package io.tlsproxy.upstream;

import io.netty.util.NetUtil;
import io.tlsproxy.config.HealthCheckConfig;
import io.tlsproxy.config.HostPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One address to dial for a configured endpoint: the endpoint itself when it is an IP literal, one of the
 * addresses its host name resolved to, or the bare name when it has never resolved (the dial then resolves it
 * and reports {@code dns} if that fails). It carries what balancing and health checks know about that address,
 * so that a re-resolution that keeps the address keeps its state.
 */
public final class UpstreamTarget {

  private final HostPort endpoint;
  private final InetAddress address;
  private final String description;
  private final AtomicInteger active = new AtomicInteger();
  private volatile boolean healthy = true;
  // Written only by the health checker, on its event loop.
  private int successes;
  private int failures;
  private boolean checking;

  /** {@code address} null: the endpoint's host name has not resolved. */
  UpstreamTarget(HostPort endpoint, InetAddress address) {
    this.endpoint = endpoint;
    this.address = address == null ? null : withoutName(address);
    this.description = address == null || isLiteral(endpoint.host()) ? endpoint.toString()
        : endpoint + "@" + NetUtil.toAddressString(address);
  }

  static boolean isLiteral(String host) {
    return NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
  }

  /** The target of an IP-literal endpoint, or null when its host is a name. */
  static UpstreamTarget literal(HostPort endpoint) {
    return isLiteral(endpoint.host())
        ? new UpstreamTarget(endpoint, NetUtil.createInetAddressFromIpAddressString(endpoint.host())) : null;
  }

  /** Without its host name, so that the dial connects to this address instead of resolving the name again. */
  private static InetAddress withoutName(InetAddress a) {
    try {
      return InetAddress.getByAddress(a.getAddress());
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e); // only for a byte array of a wrong length
    }
  }

  public HostPort endpoint() {
    return endpoint;
  }

  InetAddress address() {
    return address;
  }

  /** The address to dial: unresolved when the name has not resolved yet, so that the dial resolves it. */
  public InetSocketAddress socketAddress() {
    return address == null ? InetSocketAddress.createUnresolved(endpoint.host(), endpoint.port())
        : new InetSocketAddress(address, endpoint.port());
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
