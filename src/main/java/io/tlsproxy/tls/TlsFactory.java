package io.tlsproxy.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;
import io.tlsproxy.auth.Identities;
import io.tlsproxy.config.CertificateConfig;
import io.tlsproxy.config.ClientPolicyConfig;
import io.tlsproxy.config.ClientTlsConfig;
import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.SecretDir;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.material.KeyMaterial;
import io.tlsproxy.material.MaterialException;
import io.tlsproxy.material.MaterialLoader;
import io.tlsproxy.material.SecretFiles;
import io.tlsproxy.tls.engine.KeyLog;
import io.tlsproxy.tls.peer.PeerVerification;
import io.tlsproxy.tls.policy.PolicyResolver;
import io.tlsproxy.tls.policy.TlsPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds the SSL contexts of listeners and upstreams from configuration, checking all the material first. The
 * same code runs for {@code --check} and at start, so a file that passes the check is a file that serves.
 */
public final class TlsFactory {

  /** Server-side session cache entries per context (TLS 1.2 session ids); at most a few hundred bytes each. */
  static final int SERVER_SESSION_CACHE_SIZE = 20_480;

  private final PolicyResolver resolver;
  private final Clock clock;
  /** One key log per file for every context that names it, across reloads: lines from all go through one writer. */
  private final Map<Path, KeyLog> keyLogs = new ConcurrentHashMap<>();

  public TlsFactory(PolicyResolver resolver, Clock clock) {
    this.resolver = resolver;
    this.clock = clock;
  }

  /**
   * The server side of a listener whose routes bring certificates of their own: those answer their names ahead
   * of the listener's, whose first certificate stays the default. All share the listener's policy; each route in
   * {@code routePolicies} gets contexts of its own that ask for client certificates its way, the others share the
   * listener's. Returns null with the reasons added to {@code problems}; what was built but deserves a warning
   * (e.g. a CRL past its nextUpdate) is added to {@code warnings}, naming its key.
   */
  ServerTls server(ServerTlsConfig config, List<CertificateConfig> routeCertificates,
                   List<TlsSections.RoutePolicy> routePolicies, ConfigProblems problems, List<String> warnings) {
    int before = problems.size();
    TlsPolicy policy = resolver.resolve(config.policy(), problems);
    checkKeyLog(config.keyLogFile(), config.policy().path() + ".keyLogFile", policy, problems);
    ClientTrust listenerTrust = clientTrust(null, config.clientPolicy(), problems, warnings);
    Map<String, ClientTrust> routeTrust = new LinkedHashMap<>();
    for (TlsSections.RoutePolicy r : routePolicies) {
      routeTrust.put(r.route(), clientTrust(r.route(), r.config(), problems, warnings));
    }
    List<KeyMaterial> loaded = new ArrayList<>();
    List<List<String>> names = new ArrayList<>();
    List<CertificateConfig> all = new ArrayList<>(routeCertificates);
    all.addAll(config.certificates());
    for (CertificateConfig cert : all) {
      KeyMaterial km = keyMaterial(cert, problems);
      if (km != null) {
        loaded.add(km);
        names.add(cert.serverNames().isEmpty() ? Identities.dnsNames(km.leaf()) : cert.serverNames());
      }
    }
    if (problems.size() > before || loaded.size() <= routeCertificates.size()) {
      return null;
    }
    ServerTls.PolicyContexts listener = contexts(config, policy, all, loaded, names, listenerTrust, problems);
    Map<String, ServerTls.PolicyContexts> routes = new LinkedHashMap<>();
    routeTrust.forEach((route, trust) ->
        routes.put(route, contexts(config, policy, all, loaded, names, trust, problems)));
    if (problems.size() > before) {
      return null;
    }
    return new ServerTls(policy, listener, routes, List.copyOf(loaded));
  }

  /** A client policy's verified trust, or null trust when it asks for no certificate; see {@link #server}. */
  private record ClientTrust(ServerTls.ClientPolicy report, ClientPolicyConfig config, TrustManagerFactory trust) {
  }

  private ClientTrust clientTrust(String route, ClientPolicyConfig config, ConfigProblems problems,
                                  List<String> warnings) {
    TrustManagerFactory trust = null;
    List<X509Certificate> cas = List.of();
    List<X509CRL> crls = List.of();
    if (config.clientAuth() != ServerTlsConfig.ClientAuth.NONE && config.clientCa() != null
        && (config.clientCaSecretDir() == null || SecretFiles.present(config.clientCaSecretDir(),
        config.caKey(), problems, SecretDir.CA))) {
      cas = cas(config.clientCa(), config.caKey(), problems);
      trust = trust(cas, config.clientCa(), config.caKey(), problems);
      if (trust != null) {
        PeerVerification.Clients checked = PeerVerification.clients(config, cas, trust, clock.instant(), problems,
            warnings);
        trust = checked.trust();
        crls = checked.crls();
      }
    }
    return new ClientTrust(new ServerTls.ClientPolicy(route, config.clientAuth(),
        trust == null ? "none" : config.clientCa().toString(), List.copyOf(cas), crls), config, trust);
  }

  /** One context per loaded certificate, asking for client certificates as {@code client} says. */
  private ServerTls.PolicyContexts contexts(ServerTlsConfig config, TlsPolicy policy, List<CertificateConfig> all,
                                            List<KeyMaterial> loaded, List<List<String>> names, ClientTrust client,
                                            ConfigProblems problems) {
    List<Map.Entry<List<String>, SslContext>> entries = new ArrayList<>();
    for (int i = 0; i < loaded.size(); i++) {
      KeyMaterial km = loaded.get(i);
      try {
        SslContextBuilder b = SslContextBuilder.forServer(km.key(), km.chainArray());
        configure(b, policy, false);
        // Sessions (TLS 1.2 cache entries and TLS 1.3 tickets) live as long as their ticket key can decrypt them.
        b.sessionCacheSize(SERVER_SESSION_CACHE_SIZE)
            .sessionTimeout(config.sessionTicketKeyRotation().multipliedBy(2).toSeconds());
        if (client.trust() != null) {
          // With an allow-list a client must show who it is: optional client auth fails closed too.
          b.trustManager(client.trust()).clientAuth(client.config().clientAuth()
              == ServerTlsConfig.ClientAuth.REQUIRED || client.config().allow() != null
              ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
        }
        SslContext built = b.build();
        attachKeyLog(config.keyLogFile(), config.policy().path() + ".keyLogFile", built, problems);
        entries.add(new AbstractMap.SimpleEntry<>(names.get(i), new ServerContext(built)));
      } catch (SSLException | RuntimeException e) {
        problems.add(all.get(i).path(), "cannot build a TLS context: " + e.getMessage());
        return null;
      }
    }
    // The first of the listener's own certificates answers names no certificate claims.
    SslContext fallback = entries.get(all.size() - config.certificates().size()).getValue();
    List<SslContext> contexts = entries.stream().map(Map.Entry::getValue).toList();
    // Ticket keys per client policy: a ticket issued under one policy must not decrypt under another.
    return new ServerTls.PolicyContexts(client.report(), ServerNameMatcher.of(entries, fallback),
        new TicketKeys(contexts));
  }

  /** The client side towards an upstream, or null with the reasons added to {@code problems}; see server. */
  ClientTls client(ClientTlsConfig config, ConfigProblems problems, List<String> warnings) {
    int before = problems.size();
    TlsPolicy policy = resolver.resolve(config.policy(), problems);
    String path = config.path();
    checkKeyLog(config.keyLogFile(), path + ".keyLogFile", policy, problems);
    TrustManagerFactory trust;
    String trustSource;
    List<X509Certificate> cas = List.of();
    if (config.insecureSkipVerify()) {
      trust = InsecureTrustManagerFactory.INSTANCE;
      trustSource = "NONE (insecureSkipVerify)";
    } else if (config.ca() != null) {
      String caKey = PeerVerification.caKey(config);
      if (!caKey.endsWith(".secretDir") || SecretFiles.present(config.secretDir(), caKey, problems, SecretDir.CA)) {
        cas = cas(config.ca(), caKey, problems);
        trust = trust(cas, config.ca(), caKey, problems);
      } else {
        trust = null;
      }
      trustSource = config.ca().toString();
    } else {
      trust = null;
      trustSource = "JVM default trust store";
    }
    KeyMaterial clientCert = null;
    if (config.secretDir() != null) {
      String key = path + ".secretDir";
      if (SecretFiles.present(config.secretDir(), key, problems, SecretDir.CERT, SecretDir.KEY)) {
        clientCert = pem(config.cert(), config.key(), config.password(), key, key, problems);
      }
    } else if (config.cert() != null && config.key() != null) {
      clientCert = pem(config.cert(), config.key(), config.password(), path + ".cert", path + ".key", problems);
    }
    if (problems.size() > before) {
      return null;
    }
    trust = PeerVerification.upstream(config, cas, trust, clock.instant(), problems, warnings);
    if (problems.size() > before) {
      return null;
    }
    try {
      SslContextBuilder b = SslContextBuilder.forClient();
      if (trust != null) {
        b.trustManager(trust);
      }
      if (clientCert != null) {
        b.keyManager(clientCert.key(), clientCert.chainArray());
      }
      configure(b, policy, true);
      boolean verify = !config.insecureSkipVerify();
      SslContext built = b.build();
      if (!attachKeyLog(config.keyLogFile(), path + ".keyLogFile", built, problems)) {
        return null;
      }
      SslContext ctx = new ClientContext(built, config.serverName(), verify);
      return new ClientTls(ctx, policy, config.serverName(), verify, trustSource, clientCert, cas);
    } catch (SSLException | RuntimeException e) {
      problems.add(path, "cannot build a TLS context: " + e.getMessage());
      return null;
    }
  }

  /**
   * A key log needs the OpenSSL engine (the JDK engine does not expose TLS 1.3 secrets) and a directory to be
   * created in; the file itself is opened at the first handshake, so {@code --check} creates nothing.
   */
  private static void checkKeyLog(Path file, String key, TlsPolicy policy, ConfigProblems problems) {
    if (file == null) {
      return;
    }
    if (!policy.openssl()) {
      problems.add(key, "needs the openssl engine (the jdk engine does not expose TLS secrets); set engine: "
          + "openssl or remove keyLogFile");
    }
    Path dir = file.toAbsolutePath().getParent();
    if (Files.isDirectory(file)) {
      problems.add(key, file + " is a directory; give a file path, e.g. " + file.resolve("keys.log"));
    } else if (dir == null || !Files.isDirectory(dir)) {
      problems.add(key, "directory " + dir + " does not exist; create it or choose another path");
    } else if (!Files.isWritable(Files.exists(file) ? file : dir)) {
      problems.add(key, (Files.exists(file) ? file : dir) + " is not writable by this process");
    }
  }

  /** Sends the secrets of {@code ctx}'s handshakes to {@code file}'s key log; false with a problem if it cannot. */
  private boolean attachKeyLog(Path file, String key, SslContext ctx, ConfigProblems problems) {
    if (file == null) {
      return true;
    }
    if (!keyLogs.computeIfAbsent(file.toAbsolutePath().normalize(), KeyLog::new).attach(ctx)) {
      problems.add(key, "the TLS engine refused the key log callback; set engine: openssl or remove keyLogFile");
      return false;
    }
    return true;
  }

  private static void configure(SslContextBuilder b, TlsPolicy policy, boolean client) {
    b.sslProvider(policy.openssl() ? SslProvider.OPENSSL : SslProvider.JDK)
        .protocols(policy.protocols())
        // Identity filter: keep exactly the configured suites, in the configured order.
        .ciphers(policy.cipherSuites(), IdentityCipherSuiteFilter.INSTANCE);
    if (policy.openssl()) {
      // Per context with OpenSSL; the JDK engine on Java 17 only has the process-wide jdk.tls.namedGroups.
      b.option(OpenSslContextOption.GROUPS,
          policy.namedGroups().stream().map(PolicyResolver::opensslGroup).toArray(String[]::new));
    }
    if (!policy.alpn().isEmpty()) {
      b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
          // A server refuses a client whose offer it cannot meet (RFC 7301 section 3.2); a client accepts a
          // server that picks none, as that server may predate ALPN.
          // The OpenSSL engine cannot send the alert; it continues without a protocol (--check says so).
          client || policy.openssl() ? ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE
              : ApplicationProtocolConfig.SelectorFailureBehavior.FATAL_ALERT,
          ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
          policy.alpn()));
    }
  }

  private KeyMaterial keyMaterial(CertificateConfig cert, ConfigProblems problems) {
    if (cert.keystore() != null) {
      try {
        KeyMaterial km = MaterialLoader.loadPkcs12(cert.keystore(), cert.password());
        MaterialLoader.checkValidity(km.leaf(), cert.keystore(), clock.instant());
        return km;
      } catch (MaterialException e) {
        problems.add(cert.path() + ".keystore", e.getMessage());
        return null;
      }
    }
    if (cert.cert() == null || cert.key() == null) {
      return null;
    }
    if (cert.secretDir() != null) {
      String key = cert.path() + ".secretDir";
      return SecretFiles.present(cert.secretDir(), key, problems, SecretDir.CERT, SecretDir.KEY)
          ? pem(cert.cert(), cert.key(), cert.password(), key, key, problems) : null;
    }
    return pem(cert.cert(), cert.key(), cert.password(), cert.path() + ".cert", cert.path() + ".key", problems);
  }

  private KeyMaterial pem(Path certFile, Path keyFile, String password, String certPath, String keyPath,
                          ConfigProblems problems) {
    List<X509Certificate> chain = null;
    try {
      chain = MaterialLoader.readCertificates(certFile);
      MaterialLoader.checkValidity(chain.get(0), certFile, clock.instant());
    } catch (MaterialException e) {
      problems.add(certPath, e.getMessage());
    }
    java.security.PrivateKey key = null;
    try {
      key = MaterialLoader.readPrivateKey(keyFile, password);
    } catch (MaterialException e) {
      problems.add(keyPath, e.getMessage());
    }
    if (chain == null || key == null) {
      return null;
    }
    try {
      MaterialLoader.checkPair(key, chain.get(0), keyFile, certFile);
    } catch (MaterialException e) {
      problems.add(keyPath, e.getMessage());
      return null;
    }
    return new KeyMaterial(key, chain);
  }

  private static List<X509Certificate> cas(Path file, String path, ConfigProblems problems) {
    try {
      return MaterialLoader.readCertificates(file);
    } catch (MaterialException e) {
      problems.add(path, e.getMessage());
      return List.of();
    }
  }

  private static TrustManagerFactory trust(List<X509Certificate> cas, Path file, String path,
                                           ConfigProblems problems) {
    if (cas.isEmpty()) {
      return null;
    }
    try {
      return MaterialLoader.trust(cas, file);
    } catch (MaterialException e) {
      problems.add(path, e.getMessage());
      return null;
    }
  }

  /**
   * Server engines honour the configured suite order: JSSE otherwise lets the client's order win
   * (SSLParameters#setUseCipherSuitesOrder).
   */
  private static final class ServerContext extends DelegatingSslContext {
    ServerContext(SslContext ctx) {
      super(ctx);
    }

    @Override
    protected void initEngine(SSLEngine engine) {
      SSLParameters p = engine.getSSLParameters();
      p.setUseCipherSuitesOrder(true);
      engine.setSSLParameters(p);
    }
  }

  /**
   * Client engines verify the upstream's host name (RFC 2818 rules through "HTTPS" endpoint identification)
   * and send the server name as SNI, even for names such as "localhost" that JSSE would not send by itself.
   */
  private static final class ClientContext extends DelegatingSslContext {
    private final String serverName;
    private final boolean verify;

    ClientContext(SslContext ctx, String serverName, boolean verify) {
      super(ctx);
      this.serverName = serverName;
      this.verify = verify;
    }

    @Override
    protected void initEngine(SSLEngine engine) {
      SSLParameters p = engine.getSSLParameters();
      p.setEndpointIdentificationAlgorithm(verify ? "HTTPS" : null);
      String sni = serverName != null ? serverName : engine.getPeerHost();
      if (sni != null && !NetUtil.isValidIpV4Address(sni) && !NetUtil.isValidIpV6Address(sni)) {
        try {
          p.setServerNames(List.of(new SNIHostName(sni)));
        } catch (IllegalArgumentException e) {
          // Not a valid DNS name: send no SNI rather than fail; verification still applies.
        }
      }
      engine.setSSLParameters(p);
    }
  }
}
