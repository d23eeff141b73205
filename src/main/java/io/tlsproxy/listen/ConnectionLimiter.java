package io.tlsproxy.listen;

import com.sun.management.UnixOperatingSystemMXBean;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import io.tlsproxy.config.LimitsConfig;
import io.tlsproxy.metrics.ListenerMetrics;
import io.tlsproxy.metrics.RejectReason;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Decides what a listener accepts. It sits first in the pipeline of the listening (server) channel, where each
 * accepted connection passes as a channel before it is handed to an event loop, and it alone turns accepting on
 * and off (the server channel's autoRead):
 * <ul>
 *   <li>{@code maxConnections}: it counts the listener's open connections; at the limit it stops accepting, so
 *   that new connections wait in the kernel's accept backlog until one closes ({@code overLimit: wait}), or it
 *   closes each new connection at once ({@code refuse}).</li>
 *   <li>Failed accepts (out of file descriptors, EMFILE): it stops accepting for a second, or until one of the
 *   listener's connections closes and frees a descriptor, instead of retrying at once in a busy loop. Netty's
 *   {@code ServerBootstrapAcceptor} makes the same pause, but the error no longer reaches it: two owners of
 *   autoRead would end each other's pauses.</li>
 * </ul>
 * Everything here runs on the server channel's event loop (Vert.x's acceptor thread). Connections close on their
 * own event loops and hand the release over, so no state needs a lock.
 */
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {

  /** How long accepting stops after a failed accept; Netty's own pause is as long. */
  static final Duration ACCEPT_ERROR_PAUSE = Duration.ofSeconds(1);
  private static final Duration LOG_INTERVAL = Duration.ofMinutes(1);
  private static final Logger LOG = Logger.getLogger("tlsproxy.proxy");

  private final String listener;
  private final int max;
  private final boolean refuse;
  private final ListenerMetrics metrics;
  private final ThrottledLog limitLog = new ThrottledLog(LOG, LOG_INTERVAL);
  private final ThrottledLog errorLog = new ThrottledLog(LOG, LOG_INTERVAL);
  /** Connections accepted in the same batch after the limit was reached (NIO reads up to 16 at once). */
  private final ArrayDeque<Channel> held = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private int open;
  private boolean pausedAfterError;
  private ScheduledFuture<?> errorPauseEnd;

  private ConnectionLimiter(String listener, LimitsConfig limits, ListenerMetrics metrics) {
    this.listener = listener;
    this.max = limits.maxConnections();
    this.refuse = limits.overLimit() == LimitsConfig.OverLimit.REFUSE;
    this.metrics = metrics;
  }

  /** A limiter for one listener; it goes first into the server channel's pipeline, before the bind. */
  static ConnectionLimiter create(String listener, LimitsConfig limits, ListenerMetrics metrics) {
    warnIfAboveOpenFileLimit(listener, limits.maxConnections());
    return new ConnectionLimiter(listener, limits, metrics);
  }

  /** A relayed connection holds two descriptors; a limit the process cannot reach protects nothing. */
  private static void warnIfAboveOpenFileLimit(String listener, int maxConnections) {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean os
        && maxConnections > 0 && 2L * maxConnections > os.getMaxFileDescriptorCount()) {
      LOG.warning("listener=" + listener + " maxConnections=" + maxConnections + " needs about "
          + 2L * maxConnections + " open files (client and upstream), more than this process may open ("
          + os.getMaxFileDescriptorCount() + "); raise the limit (ulimit -n) or lower maxConnections");
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Channel child)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (max > 0 && open >= max) {
      if (refuse) {
        metrics.connectionRejected(RejectReason.MAX_CONNECTIONS);
        limitLog.warn(() -> "listener=" + listener + " reached maxConnections=" + max
            + ": refusing new connections until one closes");
        child.unsafe().closeForcibly(); // not registered with an event loop yet: closed the way Netty does then
      } else {
        held.add(child);
      }
      return;
    }
    admit(child);
    ctx.fireChannelRead(child);
    updateAccepting();
  }

  private void admit(Channel child) {
    open++;
    child.closeFuture().addListener(f -> runOnAcceptor(this::released));
  }

  private void released() {
    open--;
    if (pausedAfterError) {
      // A descriptor was just freed: one accept may succeed now. At most one try per close, so no busy loop.
      pausedAfterError = false;
      errorPauseEnd.cancel(false);
    }
    while (!held.isEmpty() && open < max) {
      Channel c = held.poll();
      admit(c);
      ctx.fireChannelRead(c);
    }
    updateAccepting();
  }

  private void updateAccepting() {
    boolean full = max > 0 && open >= max && !refuse;
    boolean on = !full && !pausedAfterError;
    if (ctx.channel().config().isAutoRead() != on) {
      if (full) {
        limitLog.warn(() -> "listener=" + listener + " reached maxConnections=" + max
            + ": new connections wait in the accept backlog until one closes");
      }
      ctx.channel().config().setAutoRead(on);
    }
  }

  /** A failed accept; the server channel stays open (Netty closes it only when it is no longer active). */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    metrics.connectionRejected(RejectReason.ACCEPT_ERROR);
    errorLog.warn(() -> "listener=" + listener + " accept failed: " + cause.getMessage() + "; accepting paused for "
        + ACCEPT_ERROR_PAUSE.toMillis() + " ms" + (String.valueOf(cause.getMessage()).contains("open files")
        ? "; raise the open-file limit (ulimit -n) or lower maxConnections" : ""));
    if (!pausedAfterError) {
      pausedAfterError = true;
      errorPauseEnd = ctx.executor().schedule(() -> {
        pausedAfterError = false;
        updateAccepting();
      }, ACCEPT_ERROR_PAUSE.toMillis(), TimeUnit.MILLISECONDS);
    }
    updateAccepting();
  }

  /** The listener closed: what was held back goes with it. */
  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Channel c;
    while ((c = held.poll()) != null) {
      c.unsafe().closeForcibly();
    }
    ctx.fireChannelInactive();
  }

  private void runOnAcceptor(Runnable task) {
    try {
      ctx.executor().execute(task);
    } catch (RejectedExecutionException e) {
      // Vert.x is shutting down: nothing is accepted any more.
    }
  }
}
