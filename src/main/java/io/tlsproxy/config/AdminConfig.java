package io.tlsproxy.config;

/** The admin HTTP endpoint; loopback by default so that metrics are not exposed by accident. */
public record AdminConfig(HostPort listen) {
  public static final HostPort DEFAULT_LISTEN = new HostPort("127.0.0.1", 9901);
}
