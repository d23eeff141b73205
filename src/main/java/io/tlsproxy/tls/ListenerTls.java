package io.tlsproxy.tls;

import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.material.CertificateInUse;
import io.tlsproxy.tls.policy.TlsPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The TLS of one listener, built from its configuration in one pass: the server side (null on a plaintext or
 * passthrough listener) and the client side of each upstream (null where it is plaintext), with the warnings the
 * build found and the files it read. The same {@link #build} runs at start, for {@code --check} and at every
 * reload, so that what passes the check is what serves and what reloads.
 */
public final class ListenerTls {

  /** The client side towards one upstream; {@code tls} null when that upstream is plaintext. */
  public record Upstream(String route, ClientTls tls) {
  }

  private final String listener;
  private final TlsSections sections;
  private final ServerTls server;
  private final List<Upstream> upstreams;
  private final List<Path> files;
  private final List<String> warnings;

  private ListenerTls(String listener, TlsSections sections, ServerTls server, List<Upstream> upstreams,
                      List<Path> files, List<String> warnings) {
    this.listener = listener;
    this.sections = sections;
    this.server = server;
    this.upstreams = upstreams;
    this.files = files;
    this.warnings = warnings;
  }

  /**
   * Builds the TLS of the listener named {@code listener} from {@code sections}; returns null with the reasons
   * added to {@code problems} when any part cannot be built.
   */
  public static ListenerTls build(String listener, TlsSections sections, TlsFactory factory,
                                  ConfigProblems problems) {
    int before = problems.size();
    List<String> warnings = new ArrayList<>();
    ServerTls server = null;
    if (sections.server() != null) {
      keyLogWarning(sections.server().policy().path(), sections.server().keyLogFile(), warnings);
      server = factory.server(sections.server(), sections.routeCertificates(), sections.routePolicies(),
          problems, warnings);
      if (server != null) {
        warnings.addAll(policyWarnings(sections.server().policy().path(), server.policy()));
      }
      warnings.addAll(weakerRoutes(sections));
    }
    List<Upstream> upstreams = new ArrayList<>();
    for (TlsSections.Upstream u : sections.upstreams()) {
      ClientTls client = null;
      if (u.tls() != null) {
        if (u.tls().insecureSkipVerify()) {
          warnings.add(u.key() + ".tls: insecureSkipVerify is true: upstream certificates are NOT verified");
        }
        keyLogWarning(u.key() + ".tls", u.tls().keyLogFile(), warnings);
        client = factory.client(u.tls(), problems, warnings);
        if (client != null) {
          warnings.addAll(policyWarnings(u.key() + ".tls", client.policy()));
        }
      }
      upstreams.add(new Upstream(u.route(), client));
    }
    if (problems.size() > before) {
      return null;
    }
    return new ListenerTls(listener, sections, server, List.copyOf(upstreams), List.copyOf(sections.files()),
        List.copyOf(warnings));
  }

  /**
   * A route that asks less of its clients than the listener does is legal (a public name beside partner ones) but
   * must be a visible choice.
   */
  private static List<String> weakerRoutes(TlsSections sections) {
    List<String> out = new ArrayList<>();
    var listener = sections.server().clientPolicy();
    for (TlsSections.RoutePolicy r : sections.routePolicies()) {
      var route = r.config();
      if (route.clientAuth().compareTo(listener.clientAuth()) < 0) {
        out.add(route.path() + ".clientAuth: " + route.clientAuth().name().toLowerCase(Locale.ROOT)
            + " is weaker than the listener's " + listener.clientAuth().name().toLowerCase(Locale.ROOT)
            + ": clients of " + r.route() + " are " + (route.clientAuth() == ServerTlsConfig.ClientAuth.NONE
            ? "not asked for a certificate" : "admitted without a certificate"));
      } else if (listener.allow() != null && route.allow() == null) {
        out.add(route.path() + ": has no allow-list although the listener has one: every client certificate its "
            + "clientCa verifies is admitted on " + r.route());
      }
    }
    return out;
  }

  /** A key log lets anyone who reads it decrypt what was captured: said at every start and by --check. */
  private static void keyLogWarning(String tlsKey, Path file, List<String> warnings) {
    if (file != null) {
      warnings.add(tlsKey + ".keyLogFile: the secrets of every TLS session are written to " + file + "; anyone "
          + "who can read it can decrypt captured traffic: INSECURE, for debugging only");
    }
  }

  /** The engine's own notes on a policy, and a warning when it is weaker than the intermediate profile. */
  private static List<String> policyWarnings(String key, TlsPolicy policy) {
    List<String> out = new ArrayList<>(policy.notes());
    if (policy.weakened()) {
      out.add(key + ": policy '" + policy.profile() + "' allows protocols or suites weaker than the intermediate "
          + "profile: " + policy.protocols());
    }
    return out;
  }

  /** Builds this listener's TLS afresh from the same sections, reading every file again; see {@link #build}. */
  ListenerTls rebuild(TlsFactory factory, ConfigProblems problems) {
    return build(listener, sections, factory, problems);
  }

  public String listener() {
    return listener;
  }

  /** The server side, or null on a plaintext or passthrough listener. */
  public ServerTls server() {
    return server;
  }

  /** The client side of each upstream, in route order, the listener's own upstream last. */
  public List<Upstream> upstreams() {
    return upstreams;
  }

  /** What the build found weaker than the default, or close to failing (a CRL past its nextUpdate). */
  public List<String> warnings() {
    return warnings;
  }

  /** Every file the build read, for the reloader to watch. */
  public List<Path> files() {
    return files;
  }

  /** Whether any side speaks TLS that tlsproxy terminates or originates. */
  public boolean usesTls() {
    return server != null || upstreams.stream().anyMatch(u -> u.tls() != null);
  }

  /** The certificates this listener serves, presents and trusts right now (they change with reloads). */
  public List<CertificateInUse> certificatesInUse() {
    List<CertificateInUse> out = new ArrayList<>();
    if (server != null) {
      out.addAll(server.certificatesInUse());
    }
    for (Upstream u : upstreams) {
      if (u.tls() != null) {
        out.addAll(u.tls().certificatesInUse());
      }
    }
    return out;
  }

  /**
   * Puts the material of {@code fresh}, built from the same configuration, in place of this one's: new
   * handshakes use it at once, open connections keep what they started with.
   */
  void replaceWith(ListenerTls fresh) {
    if (server != null) {
      server.replaceWith(fresh.server);
    }
    for (int i = 0; i < upstreams.size(); i++) {
      ClientTls mine = upstreams.get(i).tls();
      if (mine != null) {
        mine.replaceWith(fresh.upstreams.get(i).tls());
      }
    }
  }
}
