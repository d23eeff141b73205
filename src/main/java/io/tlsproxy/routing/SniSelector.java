package io.tlsproxy.routing;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.tlsproxy.tls.ServerTls;
import io.tlsproxy.tls.UnknownServerNameException;

/**
 * Reads the client's SNI name, chooses the connection's route by it, then installs the TLS handler of the
 * certificate that answers it, under the route's client policy (its own, or the listener's it inherits): the
 * route decides whether and from which CAs a certificate is asked for. A name no route answers, on a listener
 * without a default route, is refused at once with an {@code unrecognized_name} alert, before any certificate is
 * shown.
 */
public final class SniSelector extends SniHandler {

  private final long handshakeTimeoutMillis;
  private final RouteTable routes;
  private final RoutingEvents events;
  private final ServerTls tls;
  private boolean refused;

  public SniSelector(ServerTls tls, long handshakeTimeoutMillis, RouteTable routes, RoutingEvents events) {
    // The mapping is never asked: lookup below chooses by route and name.
    super(tls::select, handshakeTimeoutMillis);
    this.tls = tls;
    this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    this.routes = routes;
    this.events = events;
  }

  @Override
  protected Future<SslContext> lookup(ChannelHandlerContext ctx, String hostname) throws Exception {
    Route route = routes.select(hostname);
    if (route != null) {
      events.routed(route);
      return ctx.executor().newSucceededFuture(tls.selectForRoute(route.name(), hostname));
    }
    // The failed lookup reaches the connection as a failed SNI completion, which closes it with this reason.
    // Netty then retries the lookup as if no name had been sent: that is refused too, but only once alerted.
    if (!refused) {
      refused = true;
      events.serverName(hostname);
      ctx.writeAndFlush(TlsAlert.unrecognizedName());
    }
    return ctx.executor().newFailedFuture(new UnknownServerNameException(hostname));
  }

  @Override
  protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
    SslHandler handler = super.newSslHandler(context, allocator);
    handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
    return handler;
  }
}
