package io.tlsproxy.proxy;

import io.tlsproxy.config.HostPort;
import io.tlsproxy.config.UpstreamConfig;
import io.tlsproxy.tls.ClientTls;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the connections of one route go: its upstream, the TLS originated towards it and the choice of endpoint.
 * A listener without {@code routes} has one route, its {@code default}.
 */
public final class Route {

  private final String name;
  private final List<String> serverNames;
  private final UpstreamConfig upstream;
  private final ClientTls clientTls;
  private final AtomicInteger next = new AtomicInteger();

  /**
   * @param serverNames the names this route answers (empty for the default route)
   * @param clientTls   null for a plaintext upstream
   */
  public Route(String name, List<String> serverNames, UpstreamConfig upstream, ClientTls clientTls) {
    this.name = name;
    this.serverNames = List.copyOf(serverNames);
    this.upstream = upstream;
    this.clientTls = clientTls;
  }

  public String name() {
    return name;
  }

  public List<String> serverNames() {
    return serverNames;
  }

  public UpstreamConfig upstream() {
    return upstream;
  }

  /** Null for a plaintext upstream. */
  public ClientTls clientTls() {
    return clientTls;
  }

  /** The endpoints in the order one connection tries them: the only place where an endpoint is chosen. */
  List<HostPort> endpointOrder() {
    List<HostPort> all = upstream.endpoints();
    if (upstream.balance() == UpstreamConfig.Balance.FAILOVER || all.size() == 1) {
      return all;
    }
    int start = Math.floorMod(next.getAndIncrement(), all.size());
    List<HostPort> order = new ArrayList<>(all.size());
    for (int i = 0; i < all.size(); i++) {
      order.add(all.get((start + i) % all.size()));
    }
    return order;
  }
}
