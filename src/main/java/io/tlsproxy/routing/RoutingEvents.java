package io.tlsproxy.routing;

import io.tlsproxy.metrics.RejectReason;

/**
 * What the routing handlers at the front of a client's pipeline ({@link SniSelector}, {@link PassthroughRouter})
 * tell the connection they read for. Called on the connection's event loop.
 */
public interface RoutingEvents {

  /** The client asked for {@code name} in its ClientHello (null: it sent no SNI). */
  void serverName(String name);

  /**
   * The connection goes to {@code route}. On a TLS listener the handshake goes on with the route's certificate;
   * on a passthrough listener the upstream can be dialled at once.
   */
  void routed(Route route);

  /** Bytes of the ClientHello came: activity, for the idle timeout. */
  void touch();

  /** A passthrough client's ClientHello was refused for {@code reason} before anything was forwarded. */
  void rejected(RejectReason reason);
}
