package io.tlsproxy.relay;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.tlsproxy.metrics.CloseReason;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.routing.Route;
import io.tlsproxy.transport.Transport;
import io.tlsproxy.upstream.UpstreamTarget;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client connection and its upstream: its {@link ConnectionState}, the relay between the two legs, half-close,
 * timeouts, closing and the closing log line. {@link DownstreamStart} takes the client as far as a route,
 * {@link UpstreamStart} finds the upstream. Every close goes through {@link #close} with a {@link CloseReason}. All
 * of it runs on the downstream channel's event loop, which the upstream channel shares, so no state here needs a
 * lock.
 */
public final class ProxyConnection {

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
  private final UpstreamStart upstream;

  private ConnectionState state = ConnectionState.ACCEPTED;
  /** The state the connection was in when it began to close: tells, for one, whether a handshake was cut short. */
  private ConnectionState closedFrom;
  /** Where this connection goes, once dialled. */
  private Route route;
  /** The target this connection relays through, counted by the pool until it closes. */
  private UpstreamTarget acquired;
  private long lastActivity = startNanos;
  private ScheduledFuture<?> idleTimer;
  private ScheduledFuture<?> lifetimeTimer;

  public ProxyConnection(ListenerRuntime listener, Channel down) {
    this.listener = listener;
    this.down = down;
    this.downLeg = new RelayLeg(this);
    this.log = new ConnectionLogLine(listener.logging().access(), listener.name(),
        Transport.describe(down.remoteAddress(), down.localAddress()));
    this.metrics = listener.metrics();
    this.downstream = new DownstreamStart(listener, this, down, downLeg, log, startNanos);
    this.upstream = new UpstreamStart(listener, this, down, log);
  }

  /**
   * Called once, from the listener's channel initializer (or at its handshake turn), before the first read. With
   * {@code awaitProxyHeader} the listener has put a PROXY header reader in front, which reports to
   * {@link #onProxyHeader} or {@link #onProxyHeaderFailed}.
   */
  public void start(boolean awaitProxyHeader) {
    listener.opened(this);
    metrics.connectionOpened();
    Duration lifetime = listener.setup().config().maxConnectionLifetime();
    if (!lifetime.isZero()) {
      lifetimeTimer = down.eventLoop().schedule(this::lifetimeReached, lifetime.toNanos(), TimeUnit.NANOSECONDS);
    }
    down.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    listener.install(down, downLeg);
    if (awaitProxyHeader) {
      moveTo(ConnectionState.PROXY_HEADER);
    } else {
      downstream.start();
    }
  }

  ConnectionState state() {
    return state;
  }

  /** Moves to {@code to}; a move the state table does not allow is a bug, and fails loudly. */
  void moveTo(ConnectionState to) {
    if (!state.canMoveTo(to)) {
      throw new IllegalStateException("connection cannot go from " + state + " to " + to);
    }
    if (to == ConnectionState.CLOSING) {
      closedFrom = state;
    }
    state = to;
  }

  /** The state the connection was in when it began to close; null while it is not closing. */
  ConnectionState closedFrom() {
    return closedFrom;
  }

  boolean isClosing() {
    return state.closing();
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
    return leg == downLeg ? Side.DOWNSTREAM : leg == upstream.leg() ? Side.UPSTREAM : null;
  }

  /**
   * {@code leg}'s peer ended TCP without a TLS close_notify after its handshake: what it sent may have been cut by
   * an attacker (RFC 8446 section 6.1), so it is the reason logged and counted. The other direction keeps flowing,
   * as after any end of input.
   */
  void onTruncated(RelayLeg leg) {
    Side side = sideOf(leg);
    if (side != null) {
      log.closeReasonIfUnset(side == Side.DOWNSTREAM ? CloseReason.CLIENT_TRUNCATED : CloseReason.UPSTREAM_TRUNCATED,
          null);
    }
  }

  void onHandshake(RelayLeg leg, Throwable failure) {
    Side side = sideOf(leg);
    if (side == Side.DOWNSTREAM) {
      downstream.onHandshake(failure);
    } else if (side == Side.UPSTREAM) {
      upstream.onHandshake(failure);
    }
  }

  // ---- PROXY protocol -----------------------------------------------------------------------------------------

  /** The load balancer's header was read ({@code header} null: none came, and the listener allows that). */
  public void onProxyHeader(ProxyHeader header) {
    if (state == ConnectionState.PROXY_HEADER) {
      downstream.onProxyHeader(header);
    }
  }

  /** {@code reason} is a fixed label; {@code detail} says what was wrong, for the log. */
  public void onProxyHeaderFailed(String reason, String detail) {
    if (state == ConnectionState.PROXY_HEADER) {
      downstream.onProxyHeaderFailed(reason, detail);
    }
  }

  // ---- dialling -----------------------------------------------------------------------------------------------

  /** The client is through to {@code route}; {@code proxyHeader} and {@code handshakeStart} go onward. */
  void dial(Route route, ProxyHeader proxyHeader, long handshakeStart) {
    this.route = route;
    moveTo(ConnectionState.DIALLING);
    metrics.routed(route.name());
    upstream.dial(listener.pool(route), route, proxyHeader, handshakeStart);
  }

  // ---- relaying -----------------------------------------------------------------------------------------------

  /** The upstream channel reached {@code target} and is ready (its TLS handshake done, if any): relay. */
  void startRelay(UpstreamTarget target) {
    if (state != ConnectionState.DIALLING) {
      return;
    }
    moveTo(ConnectionState.RELAYING);
    acquired = target;
    listener.pool(route).acquire(acquired);
    RelayLeg upLeg = upstream.leg();
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

  /** {@code side} has finished sending (FIN, or TLS close_notify). */
  private void inputEnded(Side side) {
    if (!state.relaying()) {
      if (side == Side.DOWNSTREAM && !state.closing()) {
        downstream.inputEndedBeforeRelay();
      }
      return; // remembered by the leg; startRelay passes it on
    }
    RelayLeg from = side == Side.DOWNSTREAM ? downLeg : upstream.leg();
    from.setReading(false);
    if (state == ConnectionState.ENDING_LIFETIME) {
      // Both outputs are already ended: the connection is done once both peers have answered.
      if (downLeg.inputEnded() && upstream.leg().inputEnded()) {
        close(CloseReason.COMPLETED, null, null);
      }
      return;
    }
    // Flush what is queued, then end the other leg's output: close_notify on TLS, then FIN.
    RelayLeg to = side == Side.DOWNSTREAM ? upstream.leg() : downLeg;
    to.channel().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> shutdownOutput(to.channel(),
        () -> directionFinished(side)));
  }

  /** What {@code from} sent has all been passed on, and the other side told that no more comes. */
  private void directionFinished(Side from) {
    ConnectionState finished = from == Side.DOWNSTREAM ? ConnectionState.CLIENT_FINISHED
        : ConnectionState.UPSTREAM_FINISHED;
    if (state == ConnectionState.RELAYING) {
      moveTo(finished);
    } else if (state.relaying() && state != finished && state != ConnectionState.ENDING_LIFETIME) {
      close(CloseReason.COMPLETED, null, null); // the other direction had finished already
    }
  }

  /** Ends {@code ch}'s output: close_notify first on a TLS channel, then FIN; then runs {@code done}. */
  private static void shutdownOutput(Channel ch, Runnable done) {
    SslHandler ssl = ch.pipeline().get(SslHandler.class);
    if (ssl != null) {
      ssl.closeOutbound().addListener(f -> tcpShutdownOutput(ch, done));
    } else {
      tcpShutdownOutput(ch, done);
    }
  }

  private static void tcpShutdownOutput(Channel ch, Runnable done) {
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
    if (state.closing() || state == ConnectionState.ENDING_LIFETIME) {
      return;
    }
    if (!state.relaying()) {
      close(CloseReason.MAX_CONNECTION_LIFETIME, null, null);
      return;
    }
    log.closeReasonIfUnset(CloseReason.MAX_CONNECTION_LIFETIME, null);
    moveTo(ConnectionState.ENDING_LIFETIME);
    shutdownOutput(down, () -> { });
    shutdownOutput(upstream.channel(), () -> { });
    long grace = Math.min(LIFETIME_GRACE.toNanos(), listener.setup().config().maxConnectionLifetime().toNanos());
    down.eventLoop().schedule(() -> close(CloseReason.MAX_CONNECTION_LIFETIME, null, null), grace,
        TimeUnit.NANOSECONDS);
  }

  private void scheduleIdleCheck(long idleNanos) {
    long remaining = idleNanos - (System.nanoTime() - lastActivity);
    if (remaining <= 0) {
      close(CloseReason.IDLE_TIMEOUT, null, null);
      return;
    }
    idleTimer = down.eventLoop().schedule(() -> scheduleIdleCheck(idleNanos), remaining, TimeUnit.NANOSECONDS);
  }

  // ---- closing ------------------------------------------------------------------------------------------------

  void onInactive(RelayLeg leg) {
    Side side = sideOf(leg);
    if (side == null) {
      return;
    }
    if (side == Side.UPSTREAM && state == ConnectionState.DIALLING) {
      // The upstream closed during its TLS handshake; the handshake event reports why.
      return;
    }
    close(side == Side.DOWNSTREAM ? CloseReason.CLIENT_CLOSED : CloseReason.UPSTREAM_CLOSED, null, null);
    Channel up = upstream.channel();
    if (!down.isActive() && (up == null || !up.isActive())) {
      finish();
    }
  }

  void onError(RelayLeg leg, Throwable cause) {
    Side side = sideOf(leg);
    if (side == null || side == Side.UPSTREAM && state == ConnectionState.DIALLING) {
      // A failed upstream attempt: its handshake event decides whether the next endpoint is tried.
      leg.channel().close();
      return;
    }
    // An error that ends a handshake is recorded as its failure by the side's owner.
    boolean handshakeFailure = side == Side.DOWNSTREAM ? downstream.failedDuringHandshake(cause)
        : upstream.refusedAfterHandshake(cause);
    CloseReason reason = side == Side.DOWNSTREAM
        ? cause instanceof IOException ? CloseReason.CLIENT_RESET : CloseReason.CLIENT_ERROR
        : cause instanceof IOException ? CloseReason.UPSTREAM_RESET : CloseReason.UPSTREAM_ERROR;
    // After an error there is nothing worth flushing: both channels close at once. A handshake failure was recorded
    // as the reason already; a reset is not worth a stack trace.
    closeFor(reason, null, handshakeFailure || cause instanceof IOException ? null : cause, false);
  }

  /**
   * Closes for {@code reason} (with {@code detail}, where it has one), flushing what is already queued on both
   * channels first. {@code cause}, when given, is logged at debug level. On the event loop.
   */
  void close(CloseReason reason, String detail, Throwable cause) {
    closeFor(reason, detail, cause, true);
  }

  /**
   * The one way a connection closes: records {@code reason} unless an earlier one was recorded, moves to CLOSING
   * and closes both channels, after flushing what is queued if {@code flush}. The connection is counted and logged
   * once both are closed.
   */
  private void closeFor(CloseReason reason, String detail, Throwable cause, boolean flush) {
    log.closeReasonIfUnset(reason, detail);
    if (cause != null) {
      LOG.log(Level.FINE, "listener=" + listener.name() + " id=" + log.id() + " closing: " + reason.label(detail),
          cause);
    }
    if (state == ConnectionState.CLOSED) {
      return;
    }
    if (state != ConnectionState.CLOSING) {
      moveTo(ConnectionState.CLOSING);
    }
    Channel up = upstream.channel();
    if (flush) {
      down.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      if (up != null) {
        up.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    } else {
      down.close();
      if (up != null) {
        up.close();
      }
    }
    if (!down.isOpen() && (up == null || !up.isOpen())) {
      finish();
    }
  }

  /** From any thread: close this connection (drain timeout, shutdown). */
  void closeFromOutside(CloseReason reason) {
    down.eventLoop().execute(() -> close(reason, null, null));
  }

  /** Closes both channels at once, flushing nothing: the listener stopped. On the event loop. */
  void cut() {
    down.close();
    Channel up = upstream.channel();
    if (up != null) {
      up.close();
    }
  }

  private void finish() {
    if (state == ConnectionState.CLOSED) {
      return;
    }
    if (state != ConnectionState.CLOSING) {
      moveTo(ConnectionState.CLOSING);
    }
    moveTo(ConnectionState.CLOSED);
    cancel(idleTimer);
    cancel(lifetimeTimer);
    listener.closed(this);
    if (acquired != null) {
      listener.pool(route).release(acquired);
    }
    long duration = System.nanoTime() - startNanos;
    downstream.finish();
    metrics.connectionClosed(duration, log.closeReason());
    log.bytes(downLeg.bytesForwarded(), upstream.leg() == null ? 0 : upstream.leg().bytesForwarded());
    log.emit(duration);
  }

  static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }
}
