package io.tlsproxy.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.tlsproxy.config.LoggingConfig;
import io.tlsproxy.metrics.ListenerMetrics;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.util.Map;

/** What the connections of one listener share: its setup (with its routes), its upstream client and the pools. */
final class ListenerRuntime {

  private final ListenerSetup setup;
  private final NetClient client;
  private final Map<Route, UpstreamPool> pools;
  private final ConnectionTracker tracker;
  private final ListenerMetrics metrics;
  private final LoggingConfig.Format logFormat;

  ListenerRuntime(ListenerSetup setup, NetClient client, Map<Route, UpstreamPool> pools, ConnectionTracker tracker,
                  ListenerMetrics metrics, LoggingConfig.Format logFormat) {
    this.setup = setup;
    this.client = client;
    this.pools = Map.copyOf(pools);
    this.tracker = tracker;
    this.metrics = metrics;
    this.logFormat = logFormat;
  }

  ListenerMetrics metrics() {
    return metrics;
  }

  LoggingConfig.Format logFormat() {
    return logFormat;
  }

  String name() {
    return setup.name();
  }

  ListenerSetup setup() {
    return setup;
  }

  NetClient client() {
    return client;
  }

  ConnectionTracker tracker() {
    return tracker;
  }

  /** Chooses the endpoints of {@code route}'s upstream. */
  UpstreamPool pool(Route route) {
    return pools.get(route);
  }

  static Channel channelOf(NetSocket socket) {
    return ((NetSocketInternal) socket).channelHandlerContext().channel();
  }

  /**
   * Puts {@code leg} in front of Vert.x's handler, so that it sees every read, and takes out Vert.x's
   * chunked-write handler, which would queue every relayed buffer a second time.
   */
  void install(Channel ch, RelayLeg leg) {
    ChannelPipeline p = ch.pipeline();
    if (p.get("chunkedWriter") != null) {
      p.remove("chunkedWriter");
    }
    p.addBefore("handler", RelayLeg.NAME, leg);
  }
}
