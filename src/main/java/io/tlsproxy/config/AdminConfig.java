package io.tlsproxy.config;

/**
 * The admin HTTP endpoint; loopback by default so that metrics are not exposed by accident.
 *
 * @param enableQuit whether {@code POST /quitquitquit} stops the proxy, and then only when asked from a loopback
 *                   address; when false (the default) the path answers 404 like any unknown one
 */
public record AdminConfig(HostPort listen, boolean enableQuit) {
  public static final HostPort DEFAULT_LISTEN = new HostPort("127.0.0.1", 9901);
  public static final AdminConfig DEFAULT = new AdminConfig(DEFAULT_LISTEN, false);
}
