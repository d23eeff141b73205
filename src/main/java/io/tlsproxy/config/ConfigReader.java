package io.tlsproxy.config;

import io.tlsproxy.config.ServerTlsConfig.ClientAuth;
import io.tlsproxy.config.UpstreamConfig.Balance;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns the parsed YAML tree into {@link ProxyConfig}, checking structure and values. Every problem found is
 * collected; the result is returned only when there is none.
 */
public final class ConfigReader {

  private static final Pattern NAME = Pattern.compile("[a-z0-9-]+");
  private static final Pattern SOCKET_MODE = Pattern.compile("0?[0-7]{3}");
  /** A warm-up holds readiness back: a minute is far past any useful one and still lets a probe give up. */
  private static final Duration MAX_WARMUP = Duration.ofMinutes(1);
  private static final int MAX_WARMUP_CONNECTIONS = 100_000;

  private final Map<String, String> env;

  public ConfigReader(Map<String, String> env) {
    this.env = env;
  }

  public ProxyConfig read(JsonObject root) {
    ConfigProblems problems = new ConfigProblems();
    ConfigNode node = new ConfigNode(root, "", problems, env);
    node.allowOnly("admin", "listeners", "shutdown", "logging", "reload", "warmup");

    AdminConfig admin = AdminConfig.DEFAULT;
    ConfigNode adminNode = node.child("admin");
    if (adminNode != null) {
      adminNode.allowOnly("listen", "enableQuit");
      admin = new AdminConfig(adminNode.hostPort("listen", AdminConfig.DEFAULT_LISTEN),
          adminNode.bool("enableQuit", false));
    }

    ShutdownConfig shutdown = ShutdownConfig.DEFAULT;
    ConfigNode shutdownNode = node.child("shutdown");
    if (shutdownNode != null) {
      shutdownNode.allowOnly("drainTimeout", "acceptDuringDrain");
      shutdown = new ShutdownConfig(shutdownNode.duration("drainTimeout", ShutdownConfig.DEFAULT_DRAIN_TIMEOUT),
          shutdownNode.bool("acceptDuringDrain", false));
    }

    LoggingConfig logging = LoggingConfig.DEFAULT;
    ConfigNode loggingNode = node.child("logging");
    if (loggingNode != null) {
      loggingNode.allowOnly("format", "level", "access");
      logging = new LoggingConfig(loggingNode.enumValue("format", LoggingConfig.Format.class,
          LoggingConfig.Format.TEXT), loggingNode.enumValue("level", LoggingConfig.Level.class, null),
          loggingNode.bool("access", true));
    }

    ReloadConfig reload = ReloadConfig.DEFAULT;
    ConfigNode reloadNode = node.child("reload");
    if (reloadNode != null) {
      reloadNode.allowOnly("checkInterval", "warnBefore");
      reload = new ReloadConfig(reloadNode.duration("checkInterval", ReloadConfig.DEFAULT_CHECK_INTERVAL),
          reloadNode.duration("warnBefore", ReloadConfig.DEFAULT_WARN_BEFORE));
    }

    WarmupConfig warmup = WarmupConfig.DEFAULT;
    ConfigNode warmupNode = node.child("warmup");
    if (warmupNode != null) {
      warmupNode.allowOnly("enabled", "connections", "maxDuration");
      Duration max = warmupNode.duration("maxDuration", WarmupConfig.DEFAULT_MAX_DURATION);
      if (max.isZero() || max.isNegative() || max.compareTo(MAX_WARMUP) > 0) {
        warmupNode.problem("maxDuration", "must be more than 0s and at most " + MAX_WARMUP.toSeconds()
            + "s; to start without a warm-up set warmup.enabled: false");
        max = WarmupConfig.DEFAULT_MAX_DURATION;
      }
      warmup = new WarmupConfig(warmupNode.bool("enabled", true),
          warmupNode.integer("connections", 1, MAX_WARMUP_CONNECTIONS, WarmupConfig.DEFAULT_CONNECTIONS), max);
    }

    if (!node.has("listeners")) {
      node.problem("listeners", "missing; add at least one listener with name, listen and upstream");
    }
    ListenAddresses addresses = new ListenAddresses();
    boolean adminListenWritten = adminNode != null && adminNode.has("listen");
    addresses.add("admin.listen", adminListenWritten ? "" : ", the default", admin.listen());
    List<ListenerConfig> listeners = node.children("listeners", n -> {
      ListenerConfig l = listener(n);
      addresses.add(n.path("listen"), l.listen());
      return l;
    });
    Set<String> names = new HashSet<>();
    for (int i = 0; i < listeners.size(); i++) {
      String name = listeners.get(i).name();
      if (name != null && !names.add(name)) {
        problems.add("listeners[" + i + "].name", "duplicate listener name '" + name + "'; names must be unique");
      }
    }
    addresses.check(problems);
    problems.throwIfAny();
    return new ProxyConfig(admin, listeners, shutdown, logging, reload, warmup);
  }

  private ListenerConfig listener(ConfigNode n) {
    n.allowOnly("name", "listen", "tls", "upstream", "idleTimeout", "maxConnectionLifetime", "proxyProtocol",
        "passthrough", "routes", "maxConnections", "maxHandshakesPerSecond", "overLimit", "socketMode");
    String name = n.requiredString("name", "a short name of [a-z0-9-]+, e.g. web");
    if (name != null && !NAME.matcher(name).matches()) {
      n.problem("name", "'" + name + "' may only contain a-z, 0-9 and '-'");
    }
    Address listen = n.address("listen");
    ConfigNode tlsNode = n.child("tls");
    ServerTlsConfig tls = tlsNode == null ? null : serverTls(tlsNode);
    boolean passthrough = n.bool("passthrough", false);
    ConfigNode upNode = n.child("upstream");
    UpstreamConfig upstream = upNode == null ? null : upstream(upNode);
    if (upNode != null && passthrough && upNode.present("tls")) {
      upNode.problem("tls", RouteReader.PASSTHROUGH_UPSTREAM_TLS);
    }
    RouteReader routeReader = new RouteReader(passthrough, this::upstream, this::certificate, this::clientPolicy);
    List<RouteConfig> routes = n.children("routes", routeReader::route);
    routeReader.check(n, routes, tlsNode != null, upNode != null);
    if (tls != null && tls.startTls() != null) {
      checkStartTlsOneSide(n, n.path() + ".upstream", upstream);
      routes.forEach(r -> checkStartTlsOneSide(n, r.path() + ".upstream", r.upstream()));
    }
    Duration idle = n.duration("idleTimeout", ListenerConfig.DEFAULT_IDLE_TIMEOUT);
    Duration lifetime = n.duration("maxConnectionLifetime", Duration.ZERO);
    return new ListenerConfig(name, listen, tls, upstream, idle, lifetime,
        offOr(n, "proxyProtocol", ListenerConfig.ProxyProtocolMode.class, ListenerConfig.ProxyProtocolMode.OFF),
        passthrough, List.copyOf(routes), limits(n, tls != null), socketMode(n, listen));
  }

  /**
   * The permission bits of a listener's socket file, written as an octal string ("0660"). Only a socket file has
   * them: the key is refused beside a TCP address or an abstract name rather than ignored.
   */
  private static int socketMode(ConfigNode n, Address listen) {
    if (!n.has("socketMode")) {
      return ListenerConfig.DEFAULT_SOCKET_MODE;
    }
    if (!(listen instanceof UnixAddress unix) || unix.abstractName()) {
      if (listen != null) {
        n.problem("socketMode", "only applies to a socket file (listen: unix:/path), not to " + listen
            + "; remove it");
      }
      return ListenerConfig.DEFAULT_SOCKET_MODE;
    }
    if (n.rawValue("socketMode") instanceof Number) {
      n.problem("socketMode", "YAML reads an unquoted mode as a number; write it as an octal string in quotes, "
          + "e.g. \"0660\"");
      return ListenerConfig.DEFAULT_SOCKET_MODE;
    }
    String s = n.string("socketMode", "").trim();
    if (!SOCKET_MODE.matcher(s).matches()) {
      n.problem("socketMode", "'" + s + "' is not an octal mode from 0000 to 0777; write e.g. \"0660\" (owner and "
          + "group may connect) or \"0600\" (owner only)");
      return ListenerConfig.DEFAULT_SOCKET_MODE;
    }
    return Integer.parseInt(s, 8);
  }

  /**
   * A listener that plays the server of a STARTTLS protocol relays plaintext to its backend; an upstream that
   * needs an upgrade of its own would greet the client a second time.
   */
  private static void checkStartTlsOneSide(ConfigNode listener, String path, UpstreamConfig upstream) {
    if (upstream != null && upstream.tls() != null && upstream.tls().startTls() != null) {
      listener.problemAt(path + ".tls.startTls", "cannot be combined with the listener's tls.startTls (the client "
          + "would be greeted twice); remove one, or use upstream tls without startTls");
    }
  }

  /** The listener-level limit keys; absent keys mean no limit. */
  private static LimitsConfig limits(ConfigNode n, boolean terminatesTls) {
    int maxConnections = limit(n, "maxConnections", Integer.MAX_VALUE);
    int maxHandshakes = limit(n, "maxHandshakesPerSecond", LimitsConfig.MAX_HANDSHAKES_PER_SECOND);
    if (n.has("maxHandshakesPerSecond") && !terminatesTls) {
      n.problem("maxHandshakesPerSecond", "only applies to a listener that terminates TLS (with tls:); remove it "
          + "or limit connections with maxConnections");
    }
    LimitsConfig.OverLimit overLimit = n.enumValue("overLimit", LimitsConfig.OverLimit.class,
        LimitsConfig.NONE.overLimit());
    if (n.has("overLimit") && !n.has("maxConnections") && !n.has("maxHandshakesPerSecond")) {
      n.problem("overLimit", "has no effect without maxConnections or maxHandshakesPerSecond; set a limit or "
          + "remove it");
    }
    return new LimitsConfig(maxConnections, maxHandshakes, overLimit);
  }

  /** A limit from 1 to {@code max}, or 0 (no limit) when the key is absent or wrong (then reported). */
  private static int limit(ConfigNode n, String key, int max) {
    int v = n.integer(key, 0, max, -1);
    if (v == 0) {
      n.problem(key, "0 would let nothing through; leave the key out for no limit");
    }
    return Math.max(v, 0);
  }

  private ServerTlsConfig serverTls(ConfigNode n) {
    n.allowOnly("certificates", "policy", "engine", "protocols", "cipherSuites", "namedGroups", "alpn",
        "clientAuth", "clientCa", "handshakeTimeout", "allow", "crl", "clientCaSecretDir",
        "sessionTicketKeyRotation", "keyLogFile", "startTls");
    if (!n.has("certificates")) {
      n.problem("certificates", "missing; a TLS listener needs at least one entry with cert and key");
    }
    List<CertificateConfig> certs = n.children("certificates", this::certificate);
    Duration timeout = positive(n, "handshakeTimeout", ServerTlsConfig.DEFAULT_HANDSHAKE_TIMEOUT);
    ClientPolicyConfig client = clientPolicy(n);
    Duration rotation = positive(n, "sessionTicketKeyRotation", ServerTlsConfig.DEFAULT_TICKET_KEY_ROTATION);
    if (rotation.compareTo(ServerTlsConfig.MAX_TICKET_KEY_ROTATION) > 0 || rotation.toMillis() < 1000) {
      n.problem("sessionTicketKeyRotation", "must be between 1s and 24h (tickets stay valid for up to two "
          + "intervals); use e.g. 1h");
      rotation = ServerTlsConfig.DEFAULT_TICKET_KEY_ROTATION;
    }
    return new ServerTlsConfig(certs, policy(n), client.clientAuth(), client.clientCa(), timeout, client.allow(),
        client.crl(), client.clientCaSecretDir(), rotation, n.file("keyLogFile"),
        n.enumValue("startTls", StartTlsProtocol.class, null));
  }

  /**
   * The client-certificate keys of a listener's {@code tls} or of a route ({@code clientAuth}, {@code clientCa}
   * or {@code clientCaSecretDir}, {@code allow}, {@code crl}), checked by the same rules in both places.
   */
  ClientPolicyConfig clientPolicy(ConfigNode n) {
    ClientAuth clientAuth = n.enumValue("clientAuth", ClientAuth.class, ClientAuth.NONE);
    var clientCa = n.file("clientCa");
    var clientCaDir = n.file("clientCaSecretDir");
    if (clientCaDir != null && clientCa != null) {
      n.problem("clientCaSecretDir", "give either clientCa (a CA file) or clientCaSecretDir (a directory with "
          + SecretDir.CA + "), not both");
    } else if (clientCaDir != null) {
      clientCa = clientCaDir.resolve(SecretDir.CA);
    }
    if (clientAuth != ClientAuth.NONE && clientCa == null) {
      n.problem("clientCa", "missing; clientAuth " + clientAuth.name().toLowerCase()
          + " needs the CA that signs client certificates");
    }
    AllowConfig allow = allow(n);
    var crl = n.file("crl");
    for (String key : new String[] {"allow", "crl"}) {
      if (n.present(key) && clientAuth == ClientAuth.NONE) {
        n.problem(key, "needs clientAuth optional or required; without client certificates there is nothing to "
            + "check");
      }
    }
    return new ClientPolicyConfig(clientAuth, clientCa, allow, crl, clientCaDir, n.path());
  }

  /** {@code allow:} written without rules is an allow-list that admits nobody, never a missing one. */
  private AllowConfig allow(ConfigNode tls) {
    if (!tls.present("allow")) {
      return null;
    }
    ConfigNode a = tls.child("allow");
    if (a == null) {
      return new AllowConfig(List.of(), List.of(), List.of(), List.of(), tls.path("allow"));
    }
    a.allowOnly("commonNames", "dnsNames", "uris", "spkiSha256");
    return new AllowConfig(a.strings("commonNames"), a.strings("dnsNames"), a.strings("uris"),
        a.strings("spkiSha256"), a.path());
  }

  private CertificateConfig certificate(ConfigNode n) {
    n.allowOnly("cert", "key", "keystore", "password", "serverNames", "secretDir");
    var cert = n.file("cert");
    var key = n.file("key");
    var keystore = n.file("keystore");
    var secretDir = n.file("secretDir");
    if (secretDir != null) {
      if (cert != null || key != null || keystore != null) {
        n.problem("secretDir", "give either secretDir (reads " + SecretDir.CERT + " and " + SecretDir.KEY
            + ") or cert and key or keystore, not several");
      }
      cert = secretDir.resolve(SecretDir.CERT);
      key = secretDir.resolve(SecretDir.KEY);
      keystore = null;
    } else if (keystore != null && (cert != null || key != null)) {
      n.problem(null, "give either cert and key (PEM) or keystore (PKCS#12), not both");
    } else if (keystore == null) {
      if (cert == null) {
        n.problem("cert", "missing; set it to a PEM certificate chain, leaf first (or use keystore or secretDir)");
      }
      if (key == null) {
        n.problem("key", "missing; set it to the PEM private key of the certificate");
      }
    }
    return new CertificateConfig(cert, key, keystore, n.string("password", null), n.strings("serverNames"),
        n.path(), secretDir);
  }

  private PolicyConfig policy(ConfigNode n) {
    return new PolicyConfig(n.string("policy", PolicyConfig.DEFAULT_PROFILE), n.strings("protocols"),
        n.strings("cipherSuites"), n.strings("namedGroups"), n.strings("alpn"), n.string("engine", null),
        n.path());
  }

  private UpstreamConfig upstream(ConfigNode n) {
    n.allowOnly("endpoints", "balance", "connectTimeout", "tls", "proxyProtocol", "dnsTtl", "healthCheck", "via",
        "proxyProtocolTlvs");
    List<Address> endpoints = new java.util.ArrayList<>();
    List<String> raw = n.strings("endpoints");
    for (int i = 0; i < raw.size(); i++) {
      try {
        Address a = Address.parse(raw.get(i));
        if (a instanceof HostPort hp && hp.port() == 0) {
          n.problem("endpoints[" + i + "]", "port 0 cannot be dialled; give the upstream's real port");
        }
        endpoints.add(a);
      } catch (IllegalArgumentException e) {
        n.problem("endpoints[" + i + "]", e.getMessage());
      }
    }
    if (raw.isEmpty()) {
      n.problem("endpoints", "missing or empty; list at least one host:port or Unix socket, e.g. [127.0.0.1:8080] "
          + "or [unix:/run/app/app.sock]");
    }
    Balance balance = n.enumValue("balance", Balance.class, Balance.FAILOVER);
    Duration connectTimeout = positive(n, "connectTimeout", UpstreamConfig.DEFAULT_CONNECT_TIMEOUT);
    ConfigNode tlsNode = n.child("tls");
    Duration dnsTtl = n.duration("dnsTtl", UpstreamConfig.DEFAULT_DNS_TTL);
    ConfigNode checkNode = n.child("healthCheck");
    ClientTlsConfig tls = tlsNode == null ? null : clientTls(tlsNode);
    if (tls != null && tls.serverName() == null && !tls.insecureSkipVerify()
        && endpoints.stream().anyMatch(e -> e instanceof UnixAddress)) {
      tlsNode.problem("serverName", "missing; a Unix socket endpoint has no host name to verify the upstream's "
          + "certificate against, set serverName to a name in that certificate");
    }
    ConfigNode viaNode = n.child("via");
    if (viaNode != null && endpoints.stream().anyMatch(e -> e instanceof UnixAddress)) {
      n.problem("via", "a Unix socket endpoint is local and is not reached through a proxy; remove via or the unix: "
          + "endpoint");
    }
    UpstreamConfig.ProxyProtocolVersion proxyProtocol = offOr(n, "proxyProtocol",
        UpstreamConfig.ProxyProtocolVersion.class, UpstreamConfig.ProxyProtocolVersion.OFF);
    return new UpstreamConfig(List.copyOf(endpoints), balance, connectTimeout, tls, proxyProtocol, dnsTtl,
        checkNode == null ? null : healthCheck(checkNode), viaNode == null ? null : ViaReader.via(viaNode),
        proxyProtocolTlvs(n, proxyProtocol));
  }

  /** The opt-in client identity TLVs; they exist only in version 2 headers. */
  private static List<UpstreamConfig.ProxyProtocolTlv> proxyProtocolTlvs(ConfigNode n,
                                                                        UpstreamConfig.ProxyProtocolVersion version) {
    if (!n.present("proxyProtocolTlvs")) {
      return List.of();
    }
    List<String> raw = n.strings("proxyProtocolTlvs");
    java.util.EnumSet<UpstreamConfig.ProxyProtocolTlv> out = java.util.EnumSet.noneOf(
        UpstreamConfig.ProxyProtocolTlv.class);
    for (int i = 0; i < raw.size(); i++) {
      String wanted = raw.get(i).trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_');
      UpstreamConfig.ProxyProtocolTlv found = null;
      for (UpstreamConfig.ProxyProtocolTlv t : UpstreamConfig.ProxyProtocolTlv.values()) {
        found = t.name().equals(wanted) ? t : found;
      }
      if (found == null) {
        n.problem("proxyProtocolTlvs[" + i + "]", "unknown TLV '" + raw.get(i) + "'; use one of "
            + values(UpstreamConfig.ProxyProtocolTlv.class));
      } else {
        out.add(found);
      }
    }
    if (version != UpstreamConfig.ProxyProtocolVersion.V2) {
      n.problem("proxyProtocolTlvs", "needs proxyProtocol: v2 (only version 2 headers carry TLVs); set "
          + "proxyProtocol: v2 or remove proxyProtocolTlvs");
    }
    return List.copyOf(out);
  }

  private HealthCheckConfig healthCheck(ConfigNode n) {
    n.allowOnly("interval", "timeout", "unhealthyThreshold", "healthyThreshold", "requiredForReady");
    Duration interval = positive(n, "interval", HealthCheckConfig.DEFAULT_INTERVAL);
    Duration timeout = positive(n, "timeout", HealthCheckConfig.DEFAULT_TIMEOUT);
    if (timeout.compareTo(interval) >= 0) {
      n.problem("timeout", Durations.format(timeout) + " is not shorter than interval " + Durations.format(interval)
          + "; a check must end before the next one starts: lower timeout or raise interval");
    }
    return new HealthCheckConfig(interval, timeout,
        n.integer("unhealthyThreshold", 1, HealthCheckConfig.DEFAULT_UNHEALTHY_THRESHOLD),
        n.integer("healthyThreshold", 1, HealthCheckConfig.DEFAULT_HEALTHY_THRESHOLD),
        n.bool("requiredForReady", false));
  }

  private ClientTlsConfig clientTls(ConfigNode n) {
    n.allowOnly("serverName", "ca", "cert", "key", "password", "policy", "engine", "protocols", "cipherSuites",
        "namedGroups", "alpn", "insecureSkipVerify", "handshakeTimeout", "secretDir", "verifyUris",
        "verifyDnsNames", "spkiSha256", "crl", "keyLogFile", "startTls");
    var cert = n.file("cert");
    var key = n.file("key");
    var ca = n.file("ca");
    var secretDir = n.file("secretDir");
    if (secretDir != null) {
      if (cert != null || key != null) {
        n.problem("secretDir", "give either secretDir (reads " + SecretDir.CERT + " and " + SecretDir.KEY
            + ") or cert and key, not both");
      }
      cert = secretDir.resolve(SecretDir.CERT);
      key = secretDir.resolve(SecretDir.KEY);
      ca = ca != null ? ca : secretDir.resolve(SecretDir.CA);
    } else if ((cert == null) != (key == null)) {
      n.problem(cert == null ? "cert" : "key", "missing; a client certificate needs both cert and key");
    }
    String serverName = n.string("serverName", null);
    boolean insecure = n.bool("insecureSkipVerify", false);
    var crl = n.file("crl");
    for (String k : new String[] {"verifyUris", "verifyDnsNames", "spkiSha256", "crl"}) {
      if (insecure && n.present(k)) {
        n.problem(k, "has no effect with insecureSkipVerify: true, which turns verification off; remove one");
      }
    }
    for (String k : new String[] {"verifyUris", "verifyDnsNames", "spkiSha256"}) {
      if (n.present(k) && n.strings(k).isEmpty()) {
        n.problem(k, "is empty; list at least one value the upstream must match, or remove the key");
      }
    }
    if (crl != null && ca == null && !insecure) {
      n.problem("crl", "needs ca (or secretDir with " + SecretDir.CA + "): the CRL must be issued by one of the "
          + "CAs the upstream is verified against");
    }
    return new ClientTlsConfig(serverName == null || serverName.isBlank() ? null : serverName, ca,
        cert, key, n.string("password", null), policy(n), insecure,
        positive(n, "handshakeTimeout", ServerTlsConfig.DEFAULT_HANDSHAKE_TIMEOUT), n.path(), secretDir,
        n.strings("verifyUris"), n.strings("verifyDnsNames"), n.strings("spkiSha256"), crl,
        n.file("keyLogFile"), n.enumValue("startTls", StartTlsProtocol.class, null));
  }

  /**
   * An enum key whose values include {@code off}. YAML 1.1 reads an unquoted {@code off} as the boolean false, so
   * false means OFF too; true is a mistake, since it does not say which mode.
   */
  private static <E extends Enum<E>> E offOr(ConfigNode n, String key, Class<E> type, E off) {
    String raw = n.string(key, null);
    if ("false".equals(raw)) {
      return off;
    }
    if ("true".equals(raw)) {
      n.problem(key, "true does not say which; use one of " + values(type));
      return off;
    }
    return n.enumValue(key, type, off);
  }

  private static String values(Class<? extends Enum<?>> type) {
    List<String> names = new java.util.ArrayList<>();
    for (Enum<?> e : type.getEnumConstants()) {
      names.add(e.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
    }
    return String.join(", ", names);
  }

  private static Duration positive(ConfigNode n, String key, Duration fallback) {
    Duration d = n.duration(key, fallback);
    if (d.isZero()) {
      n.problem(key, "must be greater than 0; a missing limit would let a stuck peer hold a connection forever");
      return fallback;
    }
    return d;
  }
}
