package io.tlsproxy.routing;

import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.tls.ListenerTls;
import io.tlsproxy.tls.ServerTls;

/**
 * A listener ready to run: its configuration, its TLS built from it, and its routes, each route holding the TLS it
 * originates (the same objects {@code tls} holds, so that a reload reaches them).
 */
public record ListenerSetup(ListenerConfig config, ListenerTls tls, RouteTable routes) {
  public String name() {
    return config.name();
  }

  /** The server side: null for a plaintext or passthrough listener; in terminate mode it also serves the routes'
   * own certificates. */
  public ServerTls serverTls() {
    return tls.server();
  }
}
