package io.tlsproxy.tls;

import io.tlsproxy.config.CertificateConfig;
import io.tlsproxy.config.ClientPolicyConfig;
import io.tlsproxy.config.ClientTlsConfig;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.PolicyConfig;
import io.tlsproxy.config.RouteConfig;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.config.UpstreamConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The TLS sections of one listener's configuration, found in one walk: its server side (with the certificates and
 * client policies its routes bring) and the upstream of each route, then its own. Building, reloading, the
 * process-wide settings and the files watched for changes all read a listener through this, so they cannot disagree
 * about what it holds.
 *
 * @param server            the listener's {@code tls}, or null on a plaintext or passthrough listener
 * @param routeCertificates the routes' own {@code certificates}, served ahead of the listener's for their names
 * @param upstreams         every upstream in route order, the listener's own ({@code default}) last
 * @param routePolicies     the client policies of the routes that have their own, in route order
 */
public record TlsSections(ServerTlsConfig server, List<CertificateConfig> routeCertificates,
                          List<Upstream> upstreams, List<RoutePolicy> routePolicies) {

  /** The client policy of the route named {@code route}, which replaces the listener's for that route. */
  public record RoutePolicy(String route, ClientPolicyConfig config) {
  }

  /**
   * One upstream of the listener.
   *
   * @param route the route's name, or {@code default} for the listener's own upstream
   * @param key   where it sits in the configuration, e.g. {@code listeners[0].upstream}, for messages
   */
  public record Upstream(String route, String key, UpstreamConfig config) {
    /** The TLS this upstream is dialled with, or null when it is plaintext. */
    public ClientTlsConfig tls() {
      return config == null ? null : config.tls();
    }
  }

  /** The sections of {@code listener}, which sits at {@code key} (e.g. {@code listeners[0]}). */
  public static TlsSections of(ListenerConfig listener, String key) {
    List<CertificateConfig> routeCertificates = new ArrayList<>();
    List<Upstream> upstreams = new ArrayList<>();
    List<RoutePolicy> routePolicies = new ArrayList<>();
    for (RouteConfig r : listener.routes()) {
      routeCertificates.addAll(r.certificates());
      if (r.clientPolicy() != null && listener.tls() != null) {
        routePolicies.add(new RoutePolicy(r.name(), r.clientPolicy()));
      }
      upstreams.add(new Upstream(r.name(), r.path() + ".upstream", r.upstream()));
    }
    if (listener.upstream() != null) {
      upstreams.add(new Upstream(RouteConfig.DEFAULT_NAME, key + ".upstream", listener.upstream()));
    }
    return new TlsSections(listener.tls(), List.copyOf(routeCertificates), List.copyOf(upstreams),
        List.copyOf(routePolicies));
  }

  /** Every TLS policy of the listener: its server side's, then each TLS upstream's. */
  public List<PolicyConfig> policies() {
    List<PolicyConfig> out = new ArrayList<>();
    if (server != null) {
      out.add(server.policy());
    }
    for (Upstream u : upstreams) {
      if (u.tls() != null) {
        out.add(u.tls().policy());
      }
    }
    return out;
  }

  /** Every file the listener's TLS reads: certificates, keys, CAs, revocation lists. */
  public List<Path> files() {
    List<Path> out = new ArrayList<>();
    if (server != null) {
      out.addAll(server.files());
    }
    routeCertificates.forEach(c -> out.addAll(c.files()));
    routePolicies.forEach(p -> out.addAll(p.config().files()));
    for (Upstream u : upstreams) {
      if (u.tls() != null) {
        out.addAll(u.tls().files());
      }
    }
    return out;
  }
}
