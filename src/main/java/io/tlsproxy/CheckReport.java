package io.tlsproxy;

import io.tlsproxy.config.ClientPolicyConfig;
import io.tlsproxy.config.Durations;
import io.tlsproxy.config.LimitsConfig;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.config.UnixAddress;
import io.tlsproxy.config.UpstreamConfig;
import io.tlsproxy.material.KeyMaterial;
import io.tlsproxy.routing.ListenerSetup;
import io.tlsproxy.routing.Route;
import io.tlsproxy.tls.ClientTls;
import io.tlsproxy.tls.ServerTls;
import io.tlsproxy.tls.policy.ProcessTls;
import io.tlsproxy.tls.policy.TlsPolicy;
import java.util.Locale;
import java.util.stream.Collectors;

/** The effective policy of every listener and upstream, as {@code --check} prints it. */
final class CheckReport {

  private CheckReport() {
  }

  static String render(Startup.Plan plan) {
    StringBuilder b = new StringBuilder();
    for (ListenerSetup s : plan.listeners()) {
      ListenerConfig c = s.config();
      b.append("listener ").append(c.name()).append(": listen ").append(c.listen())
          .append(c.listen() instanceof UnixAddress u && !u.abstractName()
              ? " (socket mode " + ListenerConfig.octal(c.socketMode()) + ")" : "")
          .append(s.serverTls() != null ? c.tls().startTls() != null ? " (TLS after " + c.tls().startTls().label()
              + " STARTTLS: tlsproxy plays the server until the client upgrades)" : " (TLS)"
              : c.passthrough() ? " (TLS passthrough)" : " (plaintext)")
          .append(", idle timeout ").append(Durations.format(c.idleTimeout())).append('\n');
      if (!c.limits().equals(LimitsConfig.NONE)) {
        b.append("  limits: ").append(c.limits().describe()).append('\n');
      }
      ServerTls st = s.serverTls();
      if (st != null) {
        policy(b, "  downstream", st.policy());
        clientPolicy(b, "    ", c.tls().clientPolicy(), st.clientPolicy(null));
        b.append("    handshake timeout: ").append(Durations.format(c.tls().handshakeTimeout())).append('\n');
        for (KeyMaterial km : st.certificates()) {
          b.append("    certificate: ").append(km.leaf().getSubjectX500Principal().getName())
              .append(" (expires ").append(km.leaf().getNotAfter().toInstant()).append(")\n");
        }
      }
      if (c.passthrough()) {
        b.append("  passthrough: routes on the ClientHello's server name, TLS forwarded untouched\n");
      }
      for (int i = 0; i < s.routes().routes().size(); i++) {
        Route r = s.routes().routes().get(i);
        b.append("  route ").append(r.name()).append(": server names ").append(r.serverNames()).append('\n');
        ClientPolicyConfig own = c.routes().get(i).clientPolicy();
        if (st != null && own != null) {
          clientPolicy(b, "    ", own, st.clientPolicy(r.name()));
        } else if (st != null && (st.clientAuth() != ServerTlsConfig.ClientAuth.NONE
            || st.clientPolicies().size() > 1)) {
          // Said where it matters: the listener asks for certificates or another route asks otherwise.
          b.append("    client auth: the listener's (")
              .append(st.clientAuth().name().toLowerCase(Locale.ROOT)).append(")\n");
        }
        upstream(b, "    ", r);
      }
      if (s.routes().fallback() != null) {
        upstream(b, "  ", s.routes().fallback());
      } else {
        b.append("  no default upstream: names no route matches are refused (unknown_server_name)\n");
      }
    }
    for (String w : plan.warnings()) {
      b.append("WARNING: ").append(w).append('\n');
    }
    return b.toString();
  }

  /** A listener's or a route's client policy, indented by {@code in}; {@code built} holds its trust. */
  private static void clientPolicy(StringBuilder b, String in, ClientPolicyConfig config,
                                   ServerTls.ClientPolicy built) {
    b.append(in).append("client auth: ").append(config.clientAuth().name().toLowerCase(Locale.ROOT))
        .append(", client trust: ").append(built.trustSource()).append('\n');
    if (config.allow() != null) {
      var a = config.allow();
      b.append(in).append("client allow-list: commonNames ").append(a.commonNames()).append(", dnsNames ")
          .append(a.dnsNames()).append(", uris ").append(a.uris()).append(", spkiSha256 ")
          .append(a.spkiSha256().size()).append(" pin(s)")
          .append(a.commonNames().isEmpty() && a.dnsNames().isEmpty() && a.uris().isEmpty()
              && a.spkiSha256().isEmpty() ? " (empty: nobody is admitted)" : "").append('\n');
    }
    if (config.crl() != null) {
      b.append(in).append("client revocation list: ").append(config.crl()).append('\n');
    }
  }

  /** A route's upstream, indented by {@code in}. */
  private static void upstream(StringBuilder b, String in, Route route) {
    UpstreamConfig u = route.upstream();
    b.append(in).append("upstream: ").append(u.endpoints().stream().map(Object::toString)
            .collect(Collectors.joining(", ")))
        .append(" (").append(u.balance().name().toLowerCase(Locale.ROOT).replace('_', '-'))
        .append(", connect timeout ").append(Durations.format(u.connectTimeout())).append(")")
        .append(route.clientTls() == null ? " plaintext" : u.tls().startTls() == null ? " TLS"
            : " TLS after " + u.tls().startTls().label() + " STARTTLS (the client is greeted in plaintext)")
        .append('\n');
    var hc = u.healthCheck();
    if (u.via() != null) {
      // describe() leaves the password out.
      b.append(in).append("  via: ").append(u.via().describe()).append('\n');
    }
    b.append(in).append("  host names resolved ").append(u.via() != null ? "by the proxy"
            : u.dnsTtl().isZero() ? "for every connection" : "every " + Durations.format(u.dnsTtl()))
        .append(", health checks: ").append(hc == null ? "off" : "every " + Durations.format(hc.interval())
            + " (" + (route.clientTls() != null && u.tls().startTls() == null ? "TLS handshake" : "TCP connect")
            + ", timeout "
            + Durations.format(hc.timeout()) + ", down after " + hc.unhealthyThreshold() + ", up after "
            + hc.healthyThreshold() + (hc.requiredForReady() ? ", required for /readyz" : "") + ")")
        .append('\n');
    ClientTls ct = route.clientTls();
    if (ct == null) {
      return;
    }
    policy(b, in + "upstream", ct.policy());
    b.append(in).append("  server name: ").append(ct.serverName() == null ? "(endpoint host)" : ct.serverName())
        .append(", trust: ").append(ct.trustSource())
        .append(", hostname verified: ").append(ct.verifiesPeer() ? "yes" : "NO")
        .append(", client certificate: ").append(ct.clientCertificate() == null ? "none"
            : ct.clientCertificate().leaf().getSubjectX500Principal().getName()).append('\n');
    var up = u.tls();
    if (!up.verifyUris().isEmpty() || !up.verifyDnsNames().isEmpty() || !up.spkiSha256().isEmpty()) {
      b.append(in).append("  upstream identity: verifyUris ").append(up.verifyUris()).append(", verifyDnsNames ")
          .append(up.verifyDnsNames()).append(", spkiSha256 ").append(up.spkiSha256().size())
          .append(" pin(s)\n");
    }
    if (up.crl() != null) {
      b.append(in).append("  upstream revocation list: ").append(up.crl()).append('\n');
    }
  }

  private static void policy(StringBuilder b, String label, TlsPolicy p) {
    b.append(label).append(" TLS policy ").append(p.profile()).append(", engine ").append(p.engine()).append('\n');
    b.append("    protocols: ").append(String.join(", ", p.protocols())).append('\n');
    // BoringSSL offers no order among TLS 1.3 suites: the client's order decides there.
    b.append(p.openssl() ? "    cipher suites (TLS 1.2 in order; TLS 1.3 in the client's order): "
        : "    cipher suites (in order): ").append(String.join(", ", p.cipherSuites())).append('\n');
    b.append("    named groups: ").append(String.join(", ", p.openssl() ? p.namedGroups()
        : ProcessTls.jdkGroups(p.namedGroups()))).append('\n');
    b.append("    alpn: ").append(p.alpn().isEmpty() ? "(none)" : String.join(", ", p.alpn())).append('\n');
  }
}
