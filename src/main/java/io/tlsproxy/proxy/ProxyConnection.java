package io.tlsproxy.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.tls.HandshakeFailure;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLSession;

/**
 * One client connection and its upstream: the handshake, the choice of route, the relay between the two legs,
 * half-close, timeouts and the closing log line; the {@link UpstreamDialer} finds the upstream. All of it runs on
 * the downstream channel's event loop, which the upstream channel shares, so no state here needs a lock.
 */
final class ProxyConnection {

  private static final Logger LOG = Logger.getLogger("tlsproxy.proxy");
  private static final String HANDSHAKE_FAILED = "handshake_failed:";
  private static final String PROXY_PROTOCOL_FAILED = "proxy_protocol:";
  private static final String REJECTED = "rejected:";
  private static final String UPSTREAM_UNAVAILABLE = "upstream_unavailable:";
  /** How long a passthrough client has to send its ClientHello: the default TLS handshake timeout. */
  private static final Duration CLIENT_HELLO_TIMEOUT = ServerTlsConfig.DEFAULT_HANDSHAKE_TIMEOUT;
  /** How long peers get to finish after a connection reached its maximum lifetime. */
  private static final Duration LIFETIME_GRACE = Duration.ofSeconds(5);

  private final ListenerRuntime listener;
  private final Channel down;
  private final RelayLeg downLeg;
  private final long startNanos = System.nanoTime();
  private final ConnectionLogLine log;
  private final ListenerMetrics metrics;
  /** When the client's own bytes began: after a PROXY header, if one was awaited. Handshake time counts from here. */
  private long downHandshakeStart = startNanos;
  private boolean downHandshakeRecorded;
  /** Why the client's handshake failed, when that is why the connection closes; counted once, in finish. */
  private String downHandshakeFailure;
  /** True while a PROXY header is awaited, and after one failed: no TLS handshake began. */
  private boolean proxyHeaderPending;
  /** The header a load balancer sent, when it named the client; null otherwise. */
  private ProxyHeader proxyHeader;

  /** Where this connection goes; chosen from the SNI name (or at once on a plaintext listener). */
  private Route route;
  private final UpstreamDialer dialer;
  /** The target this connection relays through, counted by the pool until it closes. */
  private UpstreamTarget acquired;

  private boolean downHandshaken;
  private boolean relaying;
  private boolean closing;
  private boolean finished;
  private boolean downOutputShut;
  private boolean upOutputShut;
  private long lastActivity = startNanos;
  private ScheduledFuture<?> handshakeTimer;
  private ScheduledFuture<?> idleTimer;
  private ScheduledFuture<?> lifetimeTimer;

  ProxyConnection(ListenerRuntime listener, Channel down) {
    this.listener = listener;
    this.down = down;
    this.downLeg = new RelayLeg(this);
    this.log = new ConnectionLogLine(listener.logFormat(), listener.name(), String.valueOf(down.remoteAddress()));
    this.metrics = listener.metrics();
    this.dialer = new UpstreamDialer(listener, this, down, log);
  }

  /** Called once, from the listener's connect handler, before the first read. */
  void start() {
    metrics.connectionOpened();
    Duration lifetime = listener.setup().config().maxConnectionLifetime();
    if (!lifetime.isZero()) {
      lifetimeTimer = down.eventLoop().schedule(this::lifetimeReached, lifetime.toNanos(), TimeUnit.NANOSECONDS);
    }
    down.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    listener.install(down, downLeg);
    if (ProxyHeaderReader.installIfEnabled(listener.setup().config(), down, this)) {
      proxyHeaderPending = true;
      return; // continues in onProxyHeader
    }
    startDownstream();
  }

  /** The client's own bytes come next: a TLS handshake to wait for, or plaintext to relay once dialled. */
  private void startDownstream() {
    downHandshakeStart = System.nanoTime();
    if (listener.setup().serverTls() != null) {
      long ms = listener.setup().config().tls().handshakeTimeout().toMillis();
      down.pipeline().addFirst("tlsproxy-sni",
          new SniSelector(listener.setup().serverTls(), ms, listener.setup().routes(), this));
      handshakeTimer = down.eventLoop().schedule(this::handshakeTimedOut, ms, TimeUnit.MILLISECONDS);
    } else if (listener.setup().config().passthrough()) {
      down.pipeline().addFirst(PassthroughRouter.NAME, new PassthroughRouter(this));
      handshakeTimer = down.eventLoop().schedule(this::clientHelloTimedOut,
          CLIENT_HELLO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } else {
      downLeg.setReading(false);
      routed(listener.setup().routes().fallback());
      dial();
    }
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

  /** The route this connection takes, once known; logged where there is a choice (the listener has routes). */
  void routed(Route r) {
    route = r;
    if (!listener.setup().routes().routes().isEmpty()) {
      log.route(r.name());
    }
  }

  /**
   * A passthrough connection's ClientHello asked for {@code serverName} (null: none). Returns whether it was
   * routed; if not, the client is told with an {@code unrecognized_name} alert and the connection closes.
   */
  boolean routePassthrough(String serverName) {
    cancel(handshakeTimer);
    log.serverName(serverName);
    Route r = listener.setup().routes().select(serverName);
    if (r == null) {
      down.writeAndFlush(TlsAlert.unrecognizedName());
      rejectClientHello(HandshakeFailure.UNKNOWN_SERVER_NAME);
      return false;
    }
    routed(r);
    dial();
    return true;
  }

  /** A passthrough connection is refused before anything was forwarded; counted once, by its first reason. */
  void rejectClientHello(String reason) {
    if (closing) {
      return;
    }
    cancel(handshakeTimer);
    metrics.connectionRejected(reason);
    closeWith(REJECTED + reason, null);
  }

  private void clientHelloTimedOut() {
    if (route == null) {
      rejectClientHello(HandshakeFailure.TIMEOUT);
    }
  }

  /** Which side {@code leg} is, or null for the leg of an upstream attempt that was given up. */
  private Side sideOf(RelayLeg leg) {
    return leg == downLeg ? Side.DOWNSTREAM : leg == dialer.leg() ? Side.UPSTREAM : null;
  }

  void onHandshake(RelayLeg leg, Throwable failure) {
    Side side = sideOf(leg);
    if (side == null) {
      return;
    }
    if (side == Side.DOWNSTREAM) {
      cancel(handshakeTimer);
      if (failure != null) {
        log.refused(HandshakeFailure.detail(failure));
        closeForHandshake(HandshakeFailure.reason(failure), failure);
        return;
      }
      downHandshaken = true;
      downHandshakeRecorded = true;
      long took = System.nanoTime() - downHandshakeStart;
      SSLSession session = TlsSessions.of(down);
      metrics.handshakeSucceeded(false, session.getProtocol(), session.getCipherSuite(),
          TlsSessions.resumed(down, session, downHandshakeStart), took);
      log.downstreamTls(TlsSessions.describe(session), TlsSessions.group(down), TlsSessions.peerSubject(session),
          took);
      downLeg.setReading(false);
      dial();
    } else {
      dialer.onHandshake(failure);
    }
  }

  /** The client's handshake failed for {@code reason}: counted as such if that is why the connection closes. */
  private void recordHandshakeFailure(String reason) {
    if (log.closeReasonIfUnset(HANDSHAKE_FAILED + reason)) {
      downHandshakeFailure = reason;
    }
  }

  private void closeForHandshake(String reason, Throwable cause) {
    recordHandshakeFailure(reason);
    closeWith(HANDSHAKE_FAILED + reason, cause);
  }

  // ---- PROXY protocol ---------------------------------------------------------------------------------------

  /** The load balancer's header was read ({@code header} null: none came, and the listener allows that). */
  void onProxyHeader(ProxyHeader header) {
    if (closing) {
      return; // closed while waiting: no handshake began either
    }
    proxyHeaderPending = false;
    if (header != null && header.hasAddresses()) {
      proxyHeader = header;
      log.client(String.valueOf(header.source()), String.valueOf(down.remoteAddress()));
    }
    startDownstream();
  }

  /** {@code reason} is a fixed label; {@code detail} says what was wrong, for the log. */
  void onProxyHeaderFailed(String reason, String detail) {
    if (closing) {
      return;
    }
    metrics.proxyProtocolFailed(reason);
    log.refused(detail);
    LOG.fine(() -> "listener=" + listener.name() + " client=" + down.remoteAddress() + " " + detail);
    closeWith(PROXY_PROTOCOL_FAILED + reason, null);
  }

  private void handshakeTimedOut() {
    if (!downHandshaken && !closing) {
      closeForHandshake(HandshakeFailure.TIMEOUT, null);
    }
  }

  // ---- dialling ---------------------------------------------------------------------------------------------

  private void dial() {
    if (route == null) {
      // Cannot happen: the SNI selector either routes or refuses before the handshake can complete.
      closeWith("no_route", null);
      return;
    }
    metrics.routed(route.name());
    dialer.dial(route, proxyHeader, downHandshakeStart);
  }

  boolean isClosing() {
    return closing;
  }

  /** No endpoint of the route's upstream could be reached; {@code reason} is the last attempt's. */
  void upstreamUnavailable(String reason) {
    closeWith(UPSTREAM_UNAVAILABLE + reason, null);
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
      if (side == Side.DOWNSTREAM && !downHandshaken && listener.setup().serverTls() != null) {
        closeForHandshake(HandshakeFailure.PEER_CLOSED, null);
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
    String upstreamRefusal = side == Side.UPSTREAM ? dialer.refusedAfterHandshake(cause) : null;
    if (!downHandshaken && side == Side.DOWNSTREAM && listener.setup().serverTls() != null) {
      // The handshake event carries the same failure with its reason; just make sure the channel goes.
      log.refused(HandshakeFailure.detail(cause));
      recordHandshakeFailure(HandshakeFailure.reason(cause));
    } else if (upstreamRefusal != null) {
      log.closeReasonIfUnset(UPSTREAM_UNAVAILABLE + upstreamRefusal);
    } else if (cause instanceof IOException) {
      log.closeReasonIfUnset((side == Side.DOWNSTREAM ? "client" : "upstream") + "_reset");
    } else {
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
    cancel(handshakeTimer);
    cancel(idleTimer);
    cancel(lifetimeTimer);
    listener.tracker().remove(this);
    if (acquired != null) {
      listener.pool(route).release(acquired);
    }
    long duration = System.nanoTime() - startNanos;
    if (listener.setup().serverTls() != null && !downHandshakeRecorded && !proxyHeaderPending) {
      // Every way a downstream handshake can end without success passes here exactly once.
      String reason = downHandshakeFailure != null ? downHandshakeFailure : HandshakeFailure.PEER_CLOSED;
      metrics.handshakeFailed(false, reason, System.nanoTime() - downHandshakeStart);
    }
    metrics.connectionClosed(duration);
    log.bytes(downLeg.bytesForwarded(), dialer.leg() == null ? 0 : dialer.leg().bytesForwarded());
    log.emit(duration);
  }

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }
}
