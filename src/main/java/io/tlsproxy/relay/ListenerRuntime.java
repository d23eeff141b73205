package io.tlsproxy.relay;

import io.netty.channel.Channel;
import io.tlsproxy.config.LoggingConfig;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.routing.ListenerSetup;
import io.tlsproxy.routing.Route;
import io.tlsproxy.transport.PipelineEnd;
import io.tlsproxy.upstream.Dialer;
import io.tlsproxy.upstream.UpstreamPool;
import io.vertx.core.Promise;
import java.util.Map;

/**
 * What the connections of one listener share: its setup (with its routes), its dialer and the pools, and the
 * tracker of its open connections, which the listener drains and closes. All of a listener's connections run on
 * its one event loop.
 */
public final class ListenerRuntime {

  private final ListenerSetup setup;
  private final Dialer dialer;
  private final Map<Route, UpstreamPool> pools;
  private final ConnectionTracker tracker;
  private final ListenerMetrics metrics;
  private final LoggingConfig logging;
  /** Completed once no connection is open any more, after a drain began; null before. */
  private Promise<Void> drained;

  public ListenerRuntime(ListenerSetup setup, Dialer dialer, Map<Route, UpstreamPool> pools,
                         ConnectionTracker tracker, ListenerMetrics metrics, LoggingConfig logging) {
    this.setup = setup;
    this.dialer = dialer;
    this.pools = Map.copyOf(pools);
    this.tracker = tracker;
    this.metrics = metrics;
    this.logging = logging;
  }

  ListenerMetrics metrics() {
    return metrics;
  }

  LoggingConfig logging() {
    return logging;
  }

  String name() {
    return setup.name();
  }

  ListenerSetup setup() {
    return setup;
  }

  Dialer dialer() {
    return dialer;
  }

  /** Chooses the endpoints of {@code route}'s upstream. */
  UpstreamPool pool(Route route) {
    return pools.get(route);
  }

  /** {@code c} has started. On the listener's event loop. */
  void opened(ProxyConnection c) {
    tracker.add(c);
  }

  /** {@code c} has finished. On the listener's event loop. */
  void closed(ProxyConnection c) {
    if (tracker.remove(c) && tracker.isEmpty() && drained != null) {
      drained.tryComplete();
    }
  }

  /** Completes {@code done} once no connection of this listener is open. On the listener's event loop. */
  public void whenDrained(Promise<Void> done) {
    drained = done;
    if (tracker.isEmpty()) {
      done.tryComplete();
    }
  }

  /** Closes every open connection of this listener at once, as a stopped listener does. On its event loop. */
  public void cutAll() {
    tracker.cutAll();
  }

  /** Puts {@code leg} last but for the pipeline's end, so that it sees every read and event. */
  void install(Channel ch, RelayLeg leg) {
    ch.pipeline().addBefore(PipelineEnd.NAME, RelayLeg.NAME, leg);
  }
}
