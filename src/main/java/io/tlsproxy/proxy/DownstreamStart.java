package io.tlsproxy.proxy;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.tls.HandshakeFailure;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.net.ssl.SSLSession;

/**
 * The client side of one {@link ProxyConnection} until its upstream can be dialled: the wait for a load
 * balancer's PROXY header, then the TLS handshake with the route chosen by SNI, or on a passthrough listener the
 * route chosen from the ClientHello, each bounded by a timer; on a plaintext listener the default route at once.
 * It counts the client's handshake, succeeded or failed, exactly once. Runs on the connection's event loop.
 */
final class DownstreamStart {

  private static final Logger LOG = Logger.getLogger("tlsproxy.proxy");
  private static final String HANDSHAKE_FAILED = "handshake_failed:";
  private static final String PROXY_PROTOCOL_FAILED = "proxy_protocol:";
  private static final String REJECTED = "rejected:";
  /** How long a passthrough client has to send its ClientHello: the default TLS handshake timeout. */
  private static final Duration CLIENT_HELLO_TIMEOUT = ServerTlsConfig.DEFAULT_HANDSHAKE_TIMEOUT;

  private final ListenerRuntime listener;
  private final ProxyConnection connection;
  private final Channel down;
  private final RelayLeg downLeg;
  private final ConnectionLogLine log;
  private final ListenerMetrics metrics;
  /** When the client's own bytes began: after a PROXY header, if one was awaited. Handshake time counts from here. */
  private long handshakeStart;
  private boolean handshaken;
  /** Why the client's handshake failed, when that is why the connection closes; counted once, in finish. */
  private String handshakeFailure;
  /** True while a PROXY header is awaited, and after one failed: no TLS handshake began. */
  private boolean proxyHeaderPending;
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
    this.handshakeStart = startNanos;
  }

  /** Called once, from the connection's start, once the relay leg is in the pipeline. */
  void start() {
    if (ProxyHeaderReader.installIfEnabled(listener.setup().config(), down, this)) {
      proxyHeaderPending = true;
      return; // continues in onProxyHeader
    }
    startDownstream();
  }

  /** The client's own bytes come next: a TLS handshake to wait for, or plaintext to relay once dialled. */
  private void startDownstream() {
    handshakeStart = System.nanoTime();
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

  /** The client sent bytes (a passthrough ClientHello in parts): activity, for the idle timeout. */
  void touch() {
    connection.touch();
  }

  void onServerName(String name) {
    log.serverName(name);
  }

  /** The route the connection takes, once known; logged where there is a choice (the listener has routes). */
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
    ProxyConnection.cancel(handshakeTimer);
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
    if (connection.isClosing()) {
      return;
    }
    ProxyConnection.cancel(handshakeTimer);
    metrics.connectionRejected(reason);
    connection.closeWith(REJECTED + reason, null);
  }

  private void clientHelloTimedOut() {
    if (route == null) {
      rejectClientHello(HandshakeFailure.TIMEOUT);
    }
  }

  /** The client's TLS handshake ended; {@code failure} null: it succeeded, and the upstream is dialled. */
  void onHandshake(Throwable failure) {
    ProxyConnection.cancel(handshakeTimer);
    if (failure != null) {
      log.refused(HandshakeFailure.detail(failure));
      closeForHandshake(HandshakeFailure.reason(failure), failure);
      return;
    }
    handshaken = true;
    long took = System.nanoTime() - handshakeStart;
    SSLSession session = TlsSessions.of(down);
    metrics.handshakeSucceeded(false, session.getProtocol(), session.getCipherSuite(),
        TlsSessions.resumed(down, session, handshakeStart), took);
    log.downstreamTls(TlsSessions.describe(session), TlsSessions.group(down), TlsSessions.peerSubject(down, session),
        took);
    downLeg.setReading(false);
    dial();
  }

  /** The client stopped sending before the relay began: during a TLS handshake, that handshake failed. */
  void inputEndedBeforeRelay() {
    if (!handshaken && listener.setup().serverTls() != null) {
      closeForHandshake(HandshakeFailure.PEER_CLOSED, null);
    }
  }

  /**
   * An error on the client's channel. Returns whether it came during the TLS handshake, and was recorded as its
   * failure (the handshake event carries the same failure with its reason).
   */
  boolean failedDuringHandshake(Throwable cause) {
    if (handshaken || listener.setup().serverTls() == null) {
      return false;
    }
    log.refused(HandshakeFailure.detail(cause));
    recordHandshakeFailure(HandshakeFailure.reason(cause));
    return true;
  }

  /** The client's handshake failed for {@code reason}: counted as such if that is why the connection closes. */
  private void recordHandshakeFailure(String reason) {
    if (log.closeReasonIfUnset(HANDSHAKE_FAILED + reason)) {
      handshakeFailure = reason;
    }
  }

  private void closeForHandshake(String reason, Throwable cause) {
    recordHandshakeFailure(reason);
    connection.closeWith(HANDSHAKE_FAILED + reason, cause);
  }

  private void handshakeTimedOut() {
    if (!handshaken && !connection.isClosing()) {
      closeForHandshake(HandshakeFailure.TIMEOUT, null);
    }
  }

  private void dial() {
    if (route == null) {
      // Cannot happen: the SNI selector either routes or refuses before the handshake can complete.
      connection.closeWith("no_route", null);
      return;
    }
    connection.dial(route, proxyHeader, handshakeStart);
  }

  // ---- PROXY protocol ---------------------------------------------------------------------------------------

  /** The load balancer's header was read ({@code header} null: none came, and the listener allows that). */
  void onProxyHeader(ProxyHeader header) {
    if (connection.isClosing()) {
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
    if (connection.isClosing()) {
      return;
    }
    metrics.proxyProtocolFailed(reason);
    log.refused(detail);
    LOG.fine(() -> "listener=" + listener.name() + " client=" + down.remoteAddress() + " " + detail);
    connection.closeWith(PROXY_PROTOCOL_FAILED + reason, null);
  }

  /**
   * The connection is done: the timer goes, and a TLS handshake with the client that began but did not succeed
   * is counted as failed. Every way one can end without success passes here exactly once.
   */
  void finish() {
    ProxyConnection.cancel(handshakeTimer);
    if (listener.setup().serverTls() != null && !handshaken && !proxyHeaderPending) {
      String reason = handshakeFailure != null ? handshakeFailure : HandshakeFailure.PEER_CLOSED;
      metrics.handshakeFailed(false, reason, System.nanoTime() - handshakeStart);
    }
  }
}
