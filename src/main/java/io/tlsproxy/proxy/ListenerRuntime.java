package io.tlsproxy.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.tlsproxy.config.HostPort;
import io.tlsproxy.config.LoggingConfig;
import io.tlsproxy.config.UpstreamConfig;
import io.tlsproxy.metrics.ListenerMetrics;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** What the connections of one listener share: its setup, its upstream client and the endpoint rotation. */
final class ListenerRuntime {

  private final ListenerSetup setup;
  private final NetClient client;
  private final ConnectionTracker tracker;
  private final ListenerMetrics metrics;
  private final LoggingConfig.Format logFormat;
  private final AtomicInteger next = new AtomicInteger();

  ListenerRuntime(ListenerSetup setup, NetClient client, ConnectionTracker tracker, ListenerMetrics metrics,
                  LoggingConfig.Format logFormat) {
    this.setup = setup;
    this.client = client;
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

  /** The endpoints in the order this connection tries them. */
  List<HostPort> endpointOrder() {
    List<HostPort> all = setup.config().upstream().endpoints();
    if (setup.config().upstream().balance() == UpstreamConfig.Balance.FAILOVER || all.size() == 1) {
      return all;
    }
    int start = Math.floorMod(next.getAndIncrement(), all.size());
    List<HostPort> order = new ArrayList<>(all.size());
    for (int i = 0; i < all.size(); i++) {
      order.add(all.get((start + i) % all.size()));
    }
    return order;
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
