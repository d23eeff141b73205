package io.tlsproxy.relay;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.metrics.CloseReason;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.metrics.RejectReason;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.routing.PassthroughRouter;
import io.tlsproxy.routing.Route;
import io.tlsproxy.routing.RoutingEvents;
import io.tlsproxy.routing.SniSelector;
import io.tlsproxy.starttls.StartTlsDialogue;
import io.tlsproxy.starttls.Step;
import io.tlsproxy.tls.HandshakeFailure;
import io.tlsproxy.tls.engine.TlsSessions;
import io.tlsproxy.transport.Transport;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * The client side of one {@link ProxyConnection} until its upstream can be dialled: after a load balancer's PROXY
 * header (read by the listener), the TLS handshake with the route chosen by SNI, or on a passthrough listener the
 * route chosen from the ClientHello, each bounded by a timer; on a plaintext listener the default route at once.
 * It counts the client's handshake, succeeded or failed, exactly once. Runs on the connection's event loop.
 */
final class DownstreamStart implements RoutingEvents {

  private static final Logger LOG = Logger.getLogger("tlsproxy.proxy");
  /** How long a passthrough client has to send its ClientHello: the default TLS handshake timeout. */
  private static final Duration CLIENT_HELLO_TIMEOUT = ServerTlsConfig.DEFAULT_HANDSHAKE_TIMEOUT;

  private final ListenerRuntime listener;
  private final ProxyConnection connection;
  private final Channel down;
  private final RelayLeg downLeg;
  private final ConnectionLogLine log;
  private final ListenerMetrics metrics;
  private final boolean terminatesTls;
  /** The in-band upgrade the client goes through before its handshake; null when TLS starts at once. */
  private final StartTlsDialogue startTls;
  /** When the client's own bytes began: after a PROXY header, if one was awaited. Handshake time counts from here. */
  private long handshakeStart;
  /** Why the client's handshake failed, when that is why the connection closes; counted once, in finish. */
  private String handshakeFailure;
  /** The header a load balancer sent, when it named the client; null otherwise. */
  private ProxyHeader proxyHeader;
  /** Where the connection goes; chosen from the SNI name (or at once on a plaintext listener). */
  private Route route;
  private ScheduledFuture<?> handshakeTimer;

  DownstreamStart(ListenerRuntime listener, ProxyConnection connection, Channel down, RelayLeg downLeg,
                  ConnectionLogLine log, long startNanos) {
    this.listener = listener;
    this.connection = connection;
    this.down = down;
    this.downLeg = downLeg;
    this.log = log;
    this.metrics = listener.metrics();
    this.terminatesTls = listener.setup().serverTls() != null;
    ServerTlsConfig tls = listener.setup().config().tls();
    this.startTls = tls == null || tls.startTls() == null ? null
        : StartTlsDialogue.forProtocol(tls.startTls(), StartTlsDialogue.Role.TERMINATE);
    this.handshakeStart = startNanos;
  }

  /** The client's own bytes come next: a TLS handshake to wait for, or plaintext to relay once dialled. */
  void start() {
    handshakeStart = System.nanoTime();
    if (startTls != null) {
      connection.moveTo(ConnectionState.STARTTLS);
      down.pipeline().addBefore(RelayLeg.NAME, StartTlsDriver.NAME, new StartTlsDriver(startTls,
          listener.setup().config().tls().handshakeTimeout().toMillis(), new StartTlsDriver.Events() {
            @Override
            public void upgrade() {
              handshake();
            }

            @Override
            public void done(byte[] forward) {
              // A server-side dialogue is only done once upgraded: a bug, refused as the client's failure.
              startTlsFailed(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "dialogue over before TLS");
            }

            @Override
            public void failed(String reason, String detail) {
              startTlsFailed(reason, detail);
            }
          }));
    } else if (terminatesTls) {
      handshake();
    } else if (listener.setup().config().passthrough()) {
      connection.moveTo(ConnectionState.HANDSHAKING);
      down.pipeline().addFirst(PassthroughRouter.NAME, new PassthroughRouter(listener.setup().routes(), this));
      handshakeTimer = down.eventLoop().schedule(this::clientHelloTimedOut,
          CLIENT_HELLO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } else {
      // Reading goes on while the upstream is dialled: the leg holds the first bytes and then stops reading
      // until the relay starts. Bytes left unread in the kernel would turn a refusal's close into a reset (RST)
      // on the epoll transport, and the client would see "connection reset" instead of an orderly end. Not
      // before an in-band upgrade upstream: the client's side of that dialogue must read the client's first bytes.
      Route fallback = listener.setup().routes().fallback();
      if (fallback.upstream().tls() != null && fallback.upstream().tls().startTls() != null) {
        downLeg.setReading(false);
      }
      route(fallback);
      dial();
    }
  }

  /** The client's TLS handshake starts: the SNI selector goes in front, bounded by the handshake timeout. */
  private void handshake() {
    connection.moveTo(ConnectionState.HANDSHAKING);
    long ms = listener.setup().config().tls().handshakeTimeout().toMillis();
    down.pipeline().addFirst("tlsproxy-sni",
        new SniSelector(listener.setup().serverTls(), ms, listener.setup().routes(), this));
    handshakeTimer = down.eventLoop().schedule(this::handshakeTimedOut, ms, TimeUnit.MILLISECONDS);
  }

  /** The client did not upgrade: counted as a failed handshake for {@code reason}; nothing was dialled. */
  private void startTlsFailed(String reason, String detail) {
    if (connection.state() != ConnectionState.STARTTLS) {
      return;
    }
    log.refused(detail);
    closeForHandshake(reason, null);
  }

  // ---- routing ------------------------------------------------------------------------------------------------

  @Override
  public void touch() {
    connection.touch();
  }

  @Override
  public void serverName(String name) {
    log.serverName(name);
  }

  /** From the SNI selector (terminate: the handshake goes on) or the passthrough router (dialled at once). */
  @Override
  public void routed(Route r) {
    route(r);
    if (!terminatesTls && connection.state() == ConnectionState.HANDSHAKING) {
      ProxyConnection.cancel(handshakeTimer);
      dial();
    }
  }

  /** The route the connection takes; logged where there is a choice (the listener has routes). */
  private void route(Route r) {
    route = r;
    if (!listener.setup().routes().routes().isEmpty()) {
      log.route(r.name());
    }
  }

  /** A passthrough connection is refused before anything was forwarded; counted once, by its first reason. */
  @Override
  public void rejected(RejectReason reason) {
    if (connection.isClosing()) {
      return;
    }
    ProxyConnection.cancel(handshakeTimer);
    metrics.connectionRejected(reason);
    connection.close(CloseReason.REJECTED, reason.label(), null);
  }

  private void clientHelloTimedOut() {
    if (connection.state() == ConnectionState.HANDSHAKING) {
      rejected(RejectReason.TIMEOUT);
    }
  }

  // ---- TLS handshake ------------------------------------------------------------------------------------------

  /** The client's TLS handshake ended; {@code failure} null: it succeeded, and the upstream is dialled. */
  void onHandshake(Throwable failure) {
    ProxyConnection.cancel(handshakeTimer);
    if (connection.state() != ConnectionState.HANDSHAKING) {
      return; // closed meanwhile; counted in finish
    }
    if (failure != null) {
      log.refused(HandshakeFailure.detail(failure));
      closeForHandshake(HandshakeFailure.reason(failure), failure);
      return;
    }
    long took = System.nanoTime() - handshakeStart;
    SSLEngine engine = down.pipeline().get(SslHandler.class).engine();
    SSLSession session = engine.getSession();
    metrics.handshakeSucceeded(false, session.getProtocol(), session.getCipherSuite(),
        TlsSessions.resumed(engine, session, handshakeStart), took);
    log.downstreamTls(TlsSessions.describe(session), TlsSessions.group(engine),
        TlsSessions.peerSubject(engine, session), took);
    if (startTls != null) {
      Step after = startTls.upgraded();
      if (after.reply().length > 0) {
        down.writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(after.reply()), down.voidPromise());
      }
    }
    downLeg.setReading(false);
    dial();
  }

  /** The client stopped sending before the relay began: during a TLS handshake, that handshake failed. */
  void inputEndedBeforeRelay() {
    if (terminatesTls && handshakeUnderWay()) {
      closeForHandshake(HandshakeFailure.PEER_CLOSED, null);
    }
  }

  /**
   * An error on the client's channel. Returns whether it came during the TLS handshake, and was recorded as its
   * failure (the handshake event carries the same failure with its reason).
   */
  boolean failedDuringHandshake(Throwable cause) {
    if (!terminatesTls || !handshakeUnderWay()) {
      return false;
    }
    log.refused(HandshakeFailure.detail(cause));
    recordHandshakeFailure(HandshakeFailure.reason(cause));
    return true;
  }

  /** Whether the client is upgrading: in its STARTTLS dialogue or its TLS handshake. */
  private boolean handshakeUnderWay() {
    return connection.state() == ConnectionState.STARTTLS || connection.state() == ConnectionState.HANDSHAKING;
  }

  /** The client's handshake failed for {@code reason}: counted as such if that is why the connection closes. */
  private void recordHandshakeFailure(String reason) {
    if (log.closeReasonIfUnset(CloseReason.HANDSHAKE_FAILED, reason)) {
      handshakeFailure = reason;
    }
  }

  private void closeForHandshake(String reason, Throwable cause) {
    recordHandshakeFailure(reason);
    connection.close(CloseReason.HANDSHAKE_FAILED, reason, cause);
  }

  private void handshakeTimedOut() {
    if (connection.state() == ConnectionState.HANDSHAKING) {
      closeForHandshake(HandshakeFailure.TIMEOUT, null);
    }
  }

  private void dial() {
    if (route == null) {
      // Cannot happen: the SNI selector either routes or refuses before the handshake can complete.
      connection.close(CloseReason.NO_ROUTE, null, null);
      return;
    }
    connection.dial(route, proxyHeader, handshakeStart);
  }

  // ---- PROXY protocol -----------------------------------------------------------------------------------------

  /** The load balancer's header was read ({@code header} null: none came, and the listener allows that). */
  void onProxyHeader(ProxyHeader header) {
    if (header != null && header.hasAddresses()) {
      proxyHeader = header;
      log.client(String.valueOf(header.source()), peer());
    }
    start();
  }

  /** {@code reason} is a fixed label; {@code detail} says what was wrong, for the log. */
  void onProxyHeaderFailed(String reason, String detail) {
    metrics.proxyProtocolFailed(reason);
    log.refused(detail);
    LOG.fine(() -> "listener=" + listener.name() + " id=" + log.id() + " client=" + peer() + " " + detail);
    connection.close(CloseReason.PROXY_PROTOCOL, reason, null);
  }

  /** The socket's peer as logs show it (a Unix socket's path for a Unix client). */
  private String peer() {
    return Transport.describe(down.remoteAddress(), down.localAddress());
  }

  /**
   * The connection is done: the timer goes, and a TLS handshake with the client that began but did not succeed
   * is counted as failed. Every way one can end without success passes here exactly once.
   */
  void finish() {
    ProxyConnection.cancel(handshakeTimer);
    if (terminatesTls && (connection.closedFrom() == ConnectionState.HANDSHAKING
        || connection.closedFrom() == ConnectionState.STARTTLS)) {
      String reason = handshakeFailure != null ? handshakeFailure : HandshakeFailure.PEER_CLOSED;
      metrics.handshakeFailed(false, reason, System.nanoTime() - handshakeStart);
    }
  }
}
