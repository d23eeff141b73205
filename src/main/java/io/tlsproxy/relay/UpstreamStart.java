package io.tlsproxy.relay;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.ssl.SslHandler;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.config.StartTlsProtocol;
import io.tlsproxy.config.UpstreamConfig;
import io.tlsproxy.metrics.CloseReason;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.routing.Route;
import io.tlsproxy.starttls.StartTlsDialogue;
import io.tlsproxy.starttls.Step;
import io.tlsproxy.tls.HandshakeFailure;
import io.tlsproxy.tls.engine.TlsSessions;
import io.tlsproxy.upstream.Dialer;
import io.tlsproxy.upstream.OnwardProxyHeader;
import io.tlsproxy.upstream.UpstreamPool;
import io.tlsproxy.upstream.UpstreamTarget;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * The upstream side of one {@link ProxyConnection} until it relays: tries the endpoints of its route's pool, in
 * the order the pool chooses, each with the route's connect timeout, sends the PROXY header the upstream asks for
 * ahead of any other byte, then does the upstream TLS handshake. Each failed attempt is counted and the next endpoint is tried; the
 * connection hears of the first success, or of the last failure once no endpoint is left. The channel and leg of
 * the attempt that succeeded stay here as the relay's upstream side. Runs on the connection's event loop.
 */
final class UpstreamStart {

  private static final Logger LOG = Logger.getLogger("tlsproxy.proxy");

  private final ListenerRuntime listener;
  private final ProxyConnection connection;
  private final Channel down;
  private final ConnectionLogLine log;
  private final ListenerMetrics metrics;
  private Route route;
  /** The header the client's load balancer sent, passed on when the upstream asks for one; may be null. */
  private ProxyHeader accepted;
  private long downHandshakeStart;
  private List<UpstreamTarget> endpoints;
  private int endpointIndex;
  private UpstreamTarget endpoint;
  /** The attempt under way, or the one that succeeded; null before the first and after a failed one. */
  private Channel up;
  private RelayLeg upLeg;
  private long upHandshakeStart;
  private String lastDialError;
  /** The upgrade dialogue of the attempt under way, when the upstream's TLS starts in-band; null otherwise. */
  private StartTlsDialogue upgrade;

  UpstreamStart(ListenerRuntime listener, ProxyConnection connection, Channel down, ConnectionLogLine log) {
    this.listener = listener;
    this.connection = connection;
    this.down = down;
    this.log = log;
    this.metrics = listener.metrics();
  }

  /** The upstream channel: of the attempt under way, or of the relay once one succeeded; null otherwise. */
  Channel channel() {
    return up;
  }

  /** The relay leg of {@link #channel()}; null when that is. */
  RelayLeg leg() {
    return upLeg;
  }

  /**
   * Starts dialling {@code route}'s upstream. {@code accepted} and {@code downHandshakeStart} go into the PROXY
   * header sent onward, when the upstream asks for one.
   */
  void dial(UpstreamPool pool, Route route, ProxyHeader accepted, long downHandshakeStart) {
    this.route = route;
    this.accepted = accepted;
    this.downHandshakeStart = downHandshakeStart;
    // At once, unless host names are resolved for every connection (dnsTtl: 0); the future never fails.
    pool.order().onSuccess(order -> {
      endpoints = order;
      endpointIndex = 0;
      dialNext();
    });
  }

  private void dialNext() {
    if (connection.isClosing()) {
      return;
    }
    if (endpointIndex >= endpoints.size()) {
      connection.close(CloseReason.UPSTREAM_UNAVAILABLE, lastDialError, null);
      return;
    }
    endpoint = endpoints.get(endpointIndex++);
    RelayLeg leg = new RelayLeg(connection);
    long connectStart = System.nanoTime();
    listener.dialer().connect(down.eventLoop(), endpoint.socketAddress(), route.upstream().connectTimeout(),
        leg.initializer(), route.upstream().via()).addListener(f -> {
      Channel ch = ((ChannelFuture) f).channel();
      if (!f.isSuccess()) {
        String reason = Dialer.failureReason(f.cause());
        dialFailed(reason, reason, f.cause());
        return;
      }
      if (connection.isClosing()) {
        ch.close();
        return;
      }
      up = ch;
      upLeg = leg;
      log.upstream(endpoint.toString(), System.nanoTime() - connectStart);
      sendProxyHeader(ch, route.upstream());
      upHandshakeStart = System.nanoTime();
      StartTlsProtocol startTls = route.clientTls() == null ? null : route.upstream().tls().startTls();
      ServerTlsConfig listenerTls = listener.setup().config().tls();
      if (startTls != null) {
        upgrade = StartTlsDialogue.forProtocol(startTls, StartTlsDialogue.Role.ORIGINATE);
        // Done before TLS would mean relaying in plaintext: never.
        converse(ch, upgrade, route.upstream().tls().handshakeTimeout().toMillis(), () -> startTls(ch),
            forward -> upgradeFailed(ch, HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "dialogue over before TLS"));
      } else if (route.clientTls() != null) {
        startTls(ch);
      } else if (listenerTls != null && listenerTls.startTls() != null) {
        // The client was greeted by tlsproxy already: the backend's own greeting is read and dropped.
        converse(ch, StartTlsDialogue.forProtocol(listenerTls.startTls(), StartTlsDialogue.Role.TERMINATE_BACKEND),
            route.upstream().connectTimeout().toMillis(), () -> { }, forward -> connection.startRelay(endpoint));
      } else {
        connection.startRelay(endpoint);
      }
    });
  }

  /** The upstream TLS handshake starts on {@code ch}: its handler goes in front, bounded by its timeout. */
  private void startTls(Channel ch) {
    SslHandler ssl = route.clientTls().newHandler(ch.alloc(), endpoint.peerHost(), endpoint.peerPort());
    ssl.setHandshakeTimeoutMillis(route.upstream().tls().handshakeTimeout().toMillis());
    ch.pipeline().addFirst("tlsproxy-tls", ssl);
  }

  /**
   * Runs {@code dialogue} with the upstream on {@code ch}, bounded by {@code timeoutMillis}; a failure fails this
   * attempt (the next endpoint is tried), counted as a failed upstream handshake.
   */
  private void converse(Channel ch, StartTlsDialogue dialogue, long timeoutMillis, Runnable onUpgrade,
                        Consumer<byte[]> onDone) {
    ch.pipeline().addBefore(RelayLeg.NAME, StartTlsDriver.NAME, new StartTlsDriver(dialogue, timeoutMillis,
        new StartTlsDriver.Events() {
          @Override
          public void upgrade() {
            onUpgrade.run();
          }

          @Override
          public void done(byte[] forward) {
            if (ch == up && !connection.isClosing()) {
              onDone.accept(forward);
            }
          }

          @Override
          public void failed(String reason, String detail) {
            upgradeFailed(ch, reason, detail);
          }
        }));
  }

  /** The in-band upgrade of the attempt on {@code ch} failed: counted, and the next endpoint is tried. */
  private void upgradeFailed(Channel ch, String reason, String detail) {
    if (ch != up || connection.isClosing()) {
      return;
    }
    if (route.clientTls() != null) {
      metrics.handshakeFailed(true, reason, System.nanoTime() - upHandshakeStart);
    }
    log.refused(detail);
    dialFailed("starttls:" + reason, reason, null);
  }

  /**
   * The upstream's TLS is up after its in-band upgrade: the plaintext client gets the greeting the dialogue gives
   * (the server's own), then the client's side of the dialogue runs (for mail: nothing), then bytes are relayed.
   */
  private void upgraded() {
    Step after = upgrade.upgraded();
    if (after.action() == Step.Action.FAIL) {
      metrics.upstreamConnectFailed(endpoint.endpoint().toString(), after.reason());
      connection.close(CloseReason.UPSTREAM_UNAVAILABLE, "starttls:" + after.reason(), null);
      return;
    }
    if (after.forward().length > 0) {
      down.writeAndFlush(Unpooled.wrappedBuffer(after.forward()), down.voidPromise());
    }
    StartTlsDialogue client = StartTlsDialogue.forProtocol(route.upstream().tls().startTls(),
        StartTlsDialogue.Role.ORIGINATE_CLIENT);
    down.pipeline().addBefore(RelayLeg.NAME, StartTlsDriver.NAME, new StartTlsDriver(client,
        route.upstream().tls().handshakeTimeout().toMillis(), new StartTlsDriver.Events() {
          @Override
          public void upgrade() {
            connection.close(CloseReason.CLIENT_ERROR, "starttls: the client cannot upgrade here", null);
          }

          @Override
          public void done(byte[] forward) {
            if (forward.length > 0) {
              up.writeAndFlush(Unpooled.wrappedBuffer(forward), up.voidPromise());
            }
            connection.startRelay(endpoint);
          }

          @Override
          public void failed(String reason, String detail) {
            log.refused(detail);
            connection.close(CloseReason.CLIENT_ERROR, "starttls:" + reason, null);
          }
        }));
  }

  /** Writes the PROXY header {@code upstream} asks for to {@code ch}, ahead of any other byte (TLS included). */
  private void sendProxyHeader(Channel ch, UpstreamConfig upstream) {
    if (upstream.proxyProtocol() != null && upstream.proxyProtocol() != UpstreamConfig.ProxyProtocolVersion.OFF) {
      ch.writeAndFlush(Unpooled.wrappedBuffer(OnwardProxyHeader.encode(upstream.proxyProtocol(),
          upstream.proxyProtocolTlvs(), accepted, down, downHandshakeStart)), ch.voidPromise());
    }
  }

  /** The upstream TLS handshake of the attempt under way ended; {@code failure} null: it succeeded. */
  void onHandshake(Throwable failure) {
    if (failure != null) {
      String reason = HandshakeFailure.reason(failure);
      metrics.handshakeFailed(true, reason, System.nanoTime() - upHandshakeStart);
      log.refused(HandshakeFailure.detail(failure));
      dialFailed("tls:" + reason, "tls", failure);
      return;
    }
    long took = System.nanoTime() - upHandshakeStart;
    SSLEngine engine = up.pipeline().get(SslHandler.class).engine();
    SSLSession session = engine.getSession();
    metrics.handshakeSucceeded(true, session.getProtocol(), session.getCipherSuite(),
        TlsSessions.resumed(engine, session, upHandshakeStart), took);
    log.upstreamTls(TlsSessions.describe(session), TlsSessions.group(engine), took);
    if (upgrade != null) {
      upgraded();
    } else {
      connection.startRelay(endpoint);
    }
  }

  /**
   * In TLS 1.3 the upstream checks our client certificate after our side of the handshake is complete
   * (RFC 8446 section 4.4.2.4), so its refusal only arrives on the first read: a handshake failure all the same.
   * Returns whether {@code cause}, read before any byte came from the upstream, is such a refusal; if so it is
   * counted, and recorded as the reason the connection closes.
   */
  boolean refusedAfterHandshake(Throwable cause) {
    if (upLeg.bytesIn() != 0 || !refusesOurCertificate(cause)) {
      return false;
    }
    String reason = HandshakeFailure.reason(cause);
    metrics.handshakeFailed(true, reason, System.nanoTime() - upHandshakeStart);
    metrics.upstreamConnectFailed(endpoint.endpoint().toString(), "tls");
    log.closeReasonIfUnset(CloseReason.UPSTREAM_UNAVAILABLE, "tls:" + reason);
    return true;
  }

  private static boolean refusesOurCertificate(Throwable cause) {
    return switch (HandshakeFailure.reason(cause)) {
      case HandshakeFailure.NO_CLIENT_CERTIFICATE, HandshakeFailure.UNKNOWN_CA, HandshakeFailure.BAD_CERTIFICATE,
          HandshakeFailure.CERTIFICATE_EXPIRED -> true;
      default -> false;
    };
  }

  /** {@code reason} goes to the log; {@code metricReason} is one of refused, timeout, dns, tls, other. */
  private void dialFailed(String reason, String metricReason, Throwable cause) {
    lastDialError = reason;
    metrics.upstreamConnectFailed(endpoint.endpoint().toString(), metricReason);
    var via = route.upstream().via();
    LOG.log(Level.FINE, "listener=" + listener.name() + " id=" + log.id() + " upstream=" + endpoint
        + (via != null ? " via=" + via.describe() : "") + " failed: " + reason, cause);
    if (up != null) {
      Channel failed = up;
      up = null;
      upLeg = null;
      upgrade = null;
      failed.close();
    }
    dialNext();
  }
}
