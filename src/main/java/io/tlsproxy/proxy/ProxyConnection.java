package io.tlsproxy.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.proxyproto.ProxyHeader;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client connection and its upstream: the relay between the two legs, half-close, timeouts, closing and the
 * closing log line. {@link DownstreamStart} takes the client as far as a route, {@link UpstreamDialer} finds the
 * upstream. All of it runs on the downstream channel's event loop, which the upstream channel shares, so no state
 * here needs a lock.
 */
final class ProxyConnection {

  private static final Logger LOG = Logger.getLogger("tlsproxy.proxy");
  /** How long peers get to finish after a connection reached its maximum lifetime. */
  private static final Duration LIFETIME_GRACE = Duration.ofSeconds(5);

  private final ListenerRuntime listener;
  private final Channel down;
  private final RelayLeg downLeg;
  private final long startNanos = System.nanoTime();
  private final ConnectionLogLine log;
  private final ListenerMetrics metrics;
  private final DownstreamStart downstream;
  private final UpstreamDialer dialer;

  /** Where this connection goes, once dialled. */
  private Route route;
  /** The target this connection relays through, counted by the pool until it closes. */
  private UpstreamTarget acquired;

  private boolean relaying;
  private boolean closing;
  private boolean finished;
  private boolean downOutputShut;
  private boolean upOutputShut;
  private long lastActivity = startNanos;
  private ScheduledFuture<?> idleTimer;
  private ScheduledFuture<?> lifetimeTimer;

  ProxyConnection(ListenerRuntime listener, Channel down) {
    this.listener = listener;
    this.down = down;
    this.downLeg = new RelayLeg(this);
    this.log = new ConnectionLogLine(listener.logFormat(), listener.name(), String.valueOf(down.remoteAddress()));
    this.metrics = listener.metrics();
    this.downstream = new DownstreamStart(listener, this, down, downLeg, log, startNanos);
    this.dialer = new UpstreamDialer(listener, this, down, log);
  }

  /** Called once, from the listener's channel initializer (or at its handshake turn), before the first read. */
  void start() {
    listener.opened(this);
    metrics.connectionOpened();
    Duration lifetime = listener.setup().config().maxConnectionLifetime();
    if (!lifetime.isZero()) {
      lifetimeTimer = down.eventLoop().schedule(this::lifetimeReached, lifetime.toNanos(), TimeUnit.NANOSECONDS);
    }
    down.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    listener.install(down, downLeg);
    downstream.start();
  }

  void touch() {
    lastActivity = System.nanoTime();
  }

  void onForwarded(RelayLeg from, int n) {
    if (from == downLeg) {
      metrics.bytesToUpstream(n);
    } else {
      metrics.bytesToDownstream(n);
    }
  }

  void onServerName(String name) {
    log.serverName(name);
  }

  /** Which side {@code leg} is, or null for the leg of an upstream attempt that was given up. */
  private Side sideOf(RelayLeg leg) {
    return leg == downLeg ? Side.DOWNSTREAM : leg == dialer.leg() ? Side.UPSTREAM : null;
  }

  void onHandshake(RelayLeg leg, Throwable failure) {
    Side side = sideOf(leg);
    if (side == Side.DOWNSTREAM) {
      downstream.onHandshake(failure);
    } else if (side == Side.UPSTREAM) {
      dialer.onHandshake(failure);
    }
  }

  // ---- dialling ---------------------------------------------------------------------------------------------

  /** The client is through to {@code route}; {@code proxyHeader} and {@code handshakeStart} go onward. */
  void dial(Route route, ProxyHeader proxyHeader, long handshakeStart) {
    this.route = route;
    metrics.routed(route.name());
    dialer.dial(route, proxyHeader, handshakeStart);
  }

  boolean isClosing() {
    return closing;
  }

  // ---- relaying ---------------------------------------------------------------------------------------------

  /** The dialer's channel reached {@code target} and is ready (its TLS handshake done, if any): relay. */
  void startRelay(UpstreamTarget target) {
    if (closing) {
      return;
    }
    relaying = true;
    acquired = target;
    listener.pool(route).acquire(acquired);
    RelayLeg upLeg = dialer.leg();
    downLeg.link(upLeg);
    upLeg.link(downLeg);
    Duration idle = listener.setup().config().idleTimeout();
    if (!idle.isZero()) {
      scheduleIdleCheck(idle.toNanos());
    }
    // A client that finished sending before the upstream was ready: pass its FIN on now.
    if (downLeg.inputEnded()) {
      inputEnded(Side.DOWNSTREAM);
    }
  }

  void onInputEnded(RelayLeg leg) {
    Side side = sideOf(leg);
    if (side != null) {
      inputEnded(side);
    }
  }

  private void inputEnded(Side side) {
    if (!relaying) {
      if (side == Side.DOWNSTREAM) {
        downstream.inputEndedBeforeRelay();
      }
      return; // remembered by the leg; startRelay passes it on
    }
    RelayLeg from = side == Side.DOWNSTREAM ? downLeg : dialer.leg();
    RelayLeg to = side == Side.DOWNSTREAM ? dialer.leg() : downLeg;
    from.setReading(false);
    // Flush what is queued, then end the other leg's output: close_notify on TLS, then FIN.
    to.channel().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> shutdownOutput(to.channel(), side.other()));
  }

  private void shutdownOutput(Channel ch, Side side) {
    SslHandler ssl = ch.pipeline().get(SslHandler.class);
    if (ssl != null) {
      ssl.closeOutbound().addListener(f -> tcpShutdownOutput(ch, side));
    } else {
      tcpShutdownOutput(ch, side);
    }
  }

  private void tcpShutdownOutput(Channel ch, Side side) {
    Runnable done = () -> {
      if (side == Side.DOWNSTREAM) {
        downOutputShut = true;
      } else {
        upOutputShut = true;
      }
      if (downOutputShut && upOutputShut && downLeg.inputEnded() && dialer.leg() != null
          && dialer.leg().inputEnded()) {
        closeWith("completed", null);
      }
    };
    if (ch instanceof DuplexChannel duplex && ch.isActive()) {
      duplex.shutdownOutput().addListener(f -> done.run());
    } else {
      done.run();
    }
  }

  /**
   * The connection has lived as long as it may: both peers are told that no more data comes (FIN, or
   * close_notify then FIN), so that well-behaved clients finish and reconnect, onto rotated certificates too.
   * Whatever is still open after a short grace is closed.
   */
  private void lifetimeReached() {
    if (closing) {
      return;
    }
    log.closeReasonIfUnset("max_connection_lifetime");
    if (!relaying) {
      closeBoth();
      return;
    }
    shutdownOutput(down, Side.DOWNSTREAM);
    shutdownOutput(dialer.channel(), Side.UPSTREAM);
    long grace = Math.min(LIFETIME_GRACE.toNanos(), listener.setup().config().maxConnectionLifetime().toNanos());
    down.eventLoop().schedule(this::closeBoth, grace, TimeUnit.NANOSECONDS);
  }

  private void scheduleIdleCheck(long idleNanos) {
    long remaining = idleNanos - (System.nanoTime() - lastActivity);
    if (remaining <= 0) {
      closeWith("idle_timeout", null);
      return;
    }
    idleTimer = down.eventLoop().schedule(() -> scheduleIdleCheck(idleNanos), remaining, TimeUnit.NANOSECONDS);
  }

  // ---- closing ----------------------------------------------------------------------------------------------

  void onInactive(RelayLeg leg) {
    Side side = sideOf(leg);
    if (side == null) {
      return;
    }
    if (side == Side.UPSTREAM && !relaying && !closing) {
      // The upstream closed during its TLS handshake; the handshake event reports why.
      return;
    }
    log.closeReasonIfUnset(side == Side.DOWNSTREAM ? "client_closed" : "upstream_closed");
    closeBoth();
    Channel up = dialer.channel();
    if (!down.isActive() && (up == null || !up.isActive())) {
      finish();
    }
  }

  void onError(RelayLeg leg, Throwable cause) {
    Side side = sideOf(leg);
    if (side == null || side == Side.UPSTREAM && !relaying && !closing) {
      // A failed upstream attempt: its handshake event decides whether the next endpoint is tried.
      leg.channel().close();
      return;
    }
    // An error that ends a handshake is recorded as its failure by the side's owner.
    boolean handshakeFailure = side == Side.DOWNSTREAM ? downstream.failedDuringHandshake(cause)
        : dialer.refusedAfterHandshake(cause);
    if (!handshakeFailure && cause instanceof IOException) {
      log.closeReasonIfUnset((side == Side.DOWNSTREAM ? "client" : "upstream") + "_reset");
    } else if (!handshakeFailure) {
      log.closeReasonIfUnset((side == Side.DOWNSTREAM ? "client" : "upstream") + "_error");
      LOG.log(Level.FINE, "listener=" + listener.name() + " " + side + " error", cause);
    }
    closing = true;
    down.close();
    if (dialer.channel() != null) {
      dialer.channel().close();
    }
  }

  /** Closes both legs for {@code reason}, flushing what is already queued first. Runs on the event loop. */
  void closeWith(String reason, Throwable cause) {
    log.closeReasonIfUnset(reason);
    if (cause != null) {
      LOG.log(Level.FINE, "listener=" + listener.name() + " closing: " + reason, cause);
    }
    closeBoth();
  }

  /** From any thread: close this connection (drain timeout, shutdown). */
  void closeFromOutside(String reason) {
    down.eventLoop().execute(() -> closeWith(reason, null));
  }

  /** Closes both channels at once, flushing nothing: the listener stopped. On the event loop. */
  void cut() {
    down.close();
    Channel up = dialer.channel();
    if (up != null) {
      up.close();
    }
  }

  private void closeBoth() {
    if (!closing) {
      closing = true;
    }
    down.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    Channel up = dialer.channel();
    if (up != null) {
      up.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
    if (!down.isOpen() && (up == null || !up.isOpen())) {
      finish();
    }
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    cancel(idleTimer);
    cancel(lifetimeTimer);
    listener.closed(this);
    if (acquired != null) {
      listener.pool(route).release(acquired);
    }
    long duration = System.nanoTime() - startNanos;
    downstream.finish();
    metrics.connectionClosed(duration);
    log.bytes(downLeg.bytesForwarded(), dialer.leg() == null ? 0 : dialer.leg().bytesForwarded());
    log.emit(duration);
  }

  static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }
}
