package io.tlsproxy.routing;

import io.tlsproxy.config.UpstreamConfig;
import io.tlsproxy.tls.ClientTls;
import java.util.List;

/**
 * Where the connections of one route go: its upstream and the TLS originated towards it (the listener keeps an
 * {@link UpstreamPool} per route, which chooses the endpoint).
 * A listener without {@code routes} has one route, its {@code default}.
 */
public final class Route {

  private final String name;
  private final List<String> serverNames;
  private final UpstreamConfig upstream;
  private final ClientTls clientTls;

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
}
