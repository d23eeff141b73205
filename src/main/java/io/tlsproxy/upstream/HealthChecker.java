package io.tlsproxy.upstream;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.ssl.SslHandler;
import io.tlsproxy.config.HealthCheckConfig;
import io.tlsproxy.config.ViaConfig;
import io.tlsproxy.tls.ClientTls;
import io.tlsproxy.tls.HandshakeFailure;
import io.tlsproxy.transport.PipelineEnd;
import io.tlsproxy.transport.Transport;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Active health checks of an upstream's targets: every interval, a TCP connect to each, or a full TLS handshake
 * with the upstream's own TLS settings (trust, name, client certificate) when the upstream is TLS, so that an
 * endpoint whose certificate the proxy would refuse is not reported healthy. Checks go through the upstream's
 * egress proxy when it has one, as its connections do, so a proxy that refuses them takes the endpoint out.
 * Each check is bounded by the timeout; a target whose check is still running is not checked twice. Runs on the
 * owner's event loop.
 */
final class HealthChecker {

  private static final Logger LOG = Logger.getLogger("tlsproxy.upstream");

  private final String owner;
  private final HealthCheckConfig cfg;
  private final Vertx vertx;
  private final Dialer dialer;
  private final ViaConfig via;
  private final ClientTls tls;
  private final byte[] proxyHeader;
  private final Supplier<List<UpstreamTarget>> targets;
  private final Runnable changed;
  private Context context;
  private long timer = -1;
  private boolean stopped;

  /** @param proxyHeader sent first on every check when the upstream expects a PROXY header; null when it does not */
  HealthChecker(String owner, HealthCheckConfig cfg, Vertx vertx, Dialer dialer, ViaConfig via, ClientTls tls,
                byte[] proxyHeader, Supplier<List<UpstreamTarget>> targets, Runnable changed) {
    this.owner = owner;
    this.cfg = cfg;
    this.vertx = vertx;
    this.dialer = dialer;
    this.via = via;
    this.tls = tls;
    this.proxyHeader = proxyHeader;
    this.targets = targets;
    this.changed = changed;
  }

  /** Checks at once, then every interval; call on the owner's context. */
  void start() {
    context = vertx.getOrCreateContext();
    checkAll();
    timer = vertx.setPeriodic(cfg.interval().toMillis(), id -> checkAll());
  }

  void stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void checkAll() {
    if (!stopped) {
      targets.get().forEach(this::check);
    }
  }

  private void check(UpstreamTarget t) {
    if (!t.startCheck()) {
      return;
    }
    Promise<Void> result = Promise.promise();
    long deadline = vertx.setTimer(cfg.timeout().toMillis(),
        id -> result.tryFail("no answer within " + cfg.timeout().toMillis() + " ms"));
    // Its only handler is the pipeline's end: a failed handshake is reported through its future below.
    ChannelFuture connect = dialer.connect(Transport.eventLoop(context), t.socketAddress(), cfg.timeout(),
        PipelineEnd.INSTANCE, via);
    connect.addListener(c -> {
      if (!c.isSuccess()) {
        result.tryFail(Dialer.failureReason(c.cause()));
        return;
      }
      Channel ch = connect.channel();
      result.future().onComplete(x -> ch.close());
      if (proxyHeader != null) {
        // An upstream that expects a header refuses a connection without one, the handshake included.
        ch.writeAndFlush(Unpooled.wrappedBuffer(proxyHeader), ch.voidPromise());
      }
      if (tls == null) {
        result.tryComplete();
        return;
      }
      SslHandler ssl = tls.newHandler(ch.alloc(), t.peerHost(), t.peerPort());
      ssl.setHandshakeTimeoutMillis(cfg.timeout().toMillis());
      ssl.handshakeFuture().addListener(f -> {
        if (f.isSuccess()) {
          result.tryComplete();
        } else {
          result.tryFail("tls:" + HandshakeFailure.reason(f.cause()));
        }
      });
      ch.pipeline().addFirst("tlsproxy-tls", ssl);
    });
    result.future().onComplete(ar -> context.runOnContext(v -> {
      vertx.cancelTimer(deadline);
      record(t, ar);
    }));
  }

  private void record(UpstreamTarget t, AsyncResult<Void> ar) {
    boolean flipped = t.endCheck(ar.succeeded(), cfg);
    if (stopped) {
      return;
    }
    if (flipped) {
      if (t.healthy()) {
        LOG.info("listener=" + owner + " upstream " + t + " is healthy again after " + cfg.healthyThreshold()
            + " passed checks");
      } else {
        LOG.warning("listener=" + owner + " upstream " + t + " is unhealthy after " + cfg.unhealthyThreshold()
            + " failed checks, last: " + ar.cause().getMessage());
      }
      changed.run();
    } else if (ar.failed()) {
      LOG.log(Level.FINE, "listener=" + owner + " upstream " + t + " check failed: " + ar.cause().getMessage());
    }
  }
}
