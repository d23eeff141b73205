package io.tlsproxy.tls.policy;

import io.netty.handler.ssl.OpenSsl;
import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.PolicyConfig;
import io.tlsproxy.tls.engine.TlsHalfClose;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * Resolves a configured policy into a {@link TlsPolicy}. The same resolver serves {@code --check} and the
 * running proxy, so validation and runtime cannot drift apart. Profiles follow Mozilla's server-side TLS
 * guidelines (https://wiki.mozilla.org/Security/Server_Side_TLS).
 */
public final class PolicyResolver {

  static final List<String> TLS13_SUITES = List.of(
      "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  static final List<String> TLS12_AEAD_SUITES = List.of(
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  /** Mozilla's "old" profile, for old peers only; chosen by name, never by default. */
  static final List<String> LEGACY_EXTRA_SUITES = List.of(
      "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
      "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
      "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256",
      "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA");

  static final List<String> DEFAULT_GROUPS = List.of("x25519", "secp256r1", "secp384r1");

  /**
   * The post-quantum hybrid (ML-KEM-768 with X25519, draft-ietf-tls-ecdhe-mlkem) that leads Mozilla's list since
   * guideline 5.8; offered first by default where the engine has it (BoringSSL does, the JDK 17 engine does not).
   * A client that does not list it gets X25519 or a NIST curve as before.
   */
  static final String HYBRID_GROUP = "x25519mlkem768";

  private static final List<String> KNOWN_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1");

  private static final Map<String, String> GROUP_ALIASES = Map.ofEntries(
      Map.entry("x25519", "x25519"), Map.entry("x448", "x448"), Map.entry(HYBRID_GROUP, HYBRID_GROUP),
      Map.entry("secp256r1", "secp256r1"), Map.entry("prime256v1", "secp256r1"), Map.entry("p-256", "secp256r1"),
      Map.entry("secp384r1", "secp384r1"), Map.entry("p-384", "secp384r1"),
      Map.entry("secp521r1", "secp521r1"), Map.entry("p-521", "secp521r1"),
      Map.entry("ffdhe2048", "ffdhe2048"), Map.entry("ffdhe3072", "ffdhe3072"),
      Map.entry("ffdhe4096", "ffdhe4096"), Map.entry("ffdhe6144", "ffdhe6144"),
      Map.entry("ffdhe8192", "ffdhe8192"));

  /** The group names BoringSSL knows, by JDK name; the JDK-only finite-field groups are absent. */
  private static final Map<String, String> OPENSSL_GROUPS = Map.of(HYBRID_GROUP, "X25519MLKEM768",
      "x25519", "X25519", "secp256r1", "P-256", "secp384r1", "P-384", "secp521r1", "P-521");

  private final Set<String> supportedSuites;
  private final Set<String> supportedProtocols;
  private final Set<String> opensslSuites;
  private final String defaultEngine;

  /**
   * The engine of sections that name none: the system property {@code tlsproxy.defaultEngine} (for tests and
   * troubleshooting), else OpenSSL (BoringSSL) where it can load and be kept writing after a peer's close_notify
   * ({@link TlsHalfClose}), else the JDK's ({@link #defaultEngineFallback} says why).
   */
  public static String defaultEngine() {
    String chosen = System.getProperty("tlsproxy.defaultEngine");
    if (chosen != null) {
      return chosen.trim().toLowerCase(Locale.ROOT);
    }
    return defaultEngineFallback() == null ? TlsPolicy.OPENSSL : TlsPolicy.JDK;
  }

  /** Why sections that name no engine run on the JDK's rather than OpenSSL, or null when they do not. */
  public static String defaultEngineFallback() {
    if (System.getProperty("tlsproxy.defaultEngine") != null) {
      return null;
    }
    if (!OpenSsl.isAvailable()) {
      return "the OpenSSL library cannot load on this platform (" + OpenSsl.unavailabilityCause()
          + "); TLS sections without an engine use the JDK engine";
    }
    if (!TlsHalfClose.SUPPORTED) {
      return "this Netty version's OpenSSL engine cannot be kept writing after a peer's close_notify (TLS "
          + "half-close); TLS sections without an engine use the JDK engine";
    }
    return null;
  }

  /** A resolver with {@link #defaultEngine()}. */
  public PolicyResolver() {
    this(defaultEngine());
  }

  /** {@code defaultEngine}: the engine of sections that name none. */
  public PolicyResolver(String defaultEngine) {
    SSLParameters supported;
    try {
      supported = SSLContext.getDefault().getSupportedSSLParameters();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no default TLS implementation", e);
    }
    this.supportedSuites = Set.of(supported.getCipherSuites());
    this.supportedProtocols = Set.of(supported.getProtocols());
    this.opensslSuites = OpenSsl.isAvailable() ? Set.copyOf(OpenSsl.availableJavaCipherSuites()) : Set.of();
    this.defaultEngine = defaultEngine;
  }

  /**
   * The engine {@code config} will run on: its own choice, else the default; OpenSSL falls back to the JDK
   * where the native library cannot load. Null for an unknown name.
   */
  public String engineOf(PolicyConfig config) {
    return engineOf(config, defaultEngine);
  }

  /** As {@link #engineOf(PolicyConfig)}, without initialising the JDK's TLS (which start-up must do last). */
  public static String engineOf(PolicyConfig config, String defaultEngine) {
    String wanted = config.engine() == null ? defaultEngine : config.engine().trim().toLowerCase(Locale.ROOT);
    return switch (wanted) {
      case TlsPolicy.OPENSSL -> OpenSsl.isAvailable() ? TlsPolicy.OPENSSL : TlsPolicy.JDK;
      case TlsPolicy.JDK -> TlsPolicy.JDK;
      default -> null;
    };
  }

  /** Resolves {@code config}; problems are added under {@code config.path()} and a usable default returned. */
  public TlsPolicy resolve(PolicyConfig config, ConfigProblems problems) {
    String path = config.path();
    List<String> notes = new ArrayList<>();
    String engine = engineOf(config);
    if (engine == null) {
      problems.add(path + ".engine", config.engine() != null
          ? "unknown engine '" + config.engine() + "'; use openssl or jdk"
          : "no engine given, and the default -Dtlsproxy.defaultEngine=" + defaultEngine + " is unknown; use openssl "
              + "or jdk");
      engine = TlsPolicy.JDK;
    } else if (config.engine() != null && TlsPolicy.OPENSSL.equals(config.engine().trim().toLowerCase(Locale.ROOT))
        && engine.equals(TlsPolicy.JDK)) {
      notes.add(path + ".engine: the OpenSSL library cannot load on this platform ("
          + OpenSsl.unavailabilityCause() + "); using the JDK engine");
    }
    boolean openssl = engine.equals(TlsPolicy.OPENSSL);
    if (openssl && !config.alpn().isEmpty()) {
      notes.add(path + ".alpn: with the OpenSSL engine an ALPN mismatch does not fail the handshake (the "
          + "connection goes on without a protocol); use engine: jdk to refuse it");
    }
    String profile = config.profile().trim().toLowerCase(Locale.ROOT);
    List<String> protocols;
    List<String> suites;
    switch (profile) {
      case "modern" -> {
        protocols = List.of("TLSv1.3");
        suites = TLS13_SUITES;
      }
      case "intermediate" -> {
        protocols = List.of("TLSv1.3", "TLSv1.2");
        suites = concat(TLS13_SUITES, TLS12_AEAD_SUITES);
      }
      case "legacy" -> {
        protocols = List.of("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1");
        suites = concat(concat(TLS13_SUITES, TLS12_AEAD_SUITES), LEGACY_EXTRA_SUITES);
      }
      default -> {
        problems.add(path + ".policy", "unknown policy '" + config.profile()
            + "'; use modern, intermediate or legacy");
        profile = PolicyConfig.DEFAULT_PROFILE;
        protocols = List.of("TLSv1.3", "TLSv1.2");
        suites = concat(TLS13_SUITES, TLS12_AEAD_SUITES);
      }
    }
    boolean legacy = profile.equals("legacy");
    boolean weakened = legacy;

    if (!config.protocols().isEmpty()) {
      List<String> chosen = new ArrayList<>();
      for (int i = 0; i < config.protocols().size(); i++) {
        String p = canonicalProtocol(config.protocols().get(i));
        String key = path + ".protocols[" + i + "]";
        if (p == null) {
          problems.add(key, "unknown protocol '" + config.protocols().get(i) + "'; use TLSv1.3 or TLSv1.2");
        } else if (!legacy && (p.equals("TLSv1.1") || p.equals("TLSv1"))) {
          problems.add(key, p + " is insecure and only allowed with policy: legacy");
        } else if (!supportedProtocols.contains(p)) {
          problems.add(key, p + " is not supported by this JVM's TLS engine");
        } else if (!chosen.contains(p)) {
          chosen.add(p);
        }
      }
      if (!chosen.isEmpty()) {
        protocols = List.copyOf(chosen);
      }
    }

    if (!config.cipherSuites().isEmpty()) {
      List<String> chosen = new ArrayList<>();
      for (int i = 0; i < config.cipherSuites().size(); i++) {
        String s = config.cipherSuites().get(i).trim();
        String key = path + ".cipherSuites[" + i + "]";
        if (!legacy && isBroken(s)) {
          problems.add(key, s + " is broken (RC4, 3DES, DES, export, NULL or anonymous) and only allowed with "
              + "policy: legacy");
        } else if (!(openssl ? opensslSuites : supportedSuites).contains(s)) {
          problems.add(key, "unknown cipher suite '" + s
              + "'; use IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_AES_128_GCM_SHA256");
        } else if (!chosen.contains(s)) {
          if (!TLS13_SUITES.contains(s) && !TLS12_AEAD_SUITES.contains(s)) {
            weakened = true;
          }
          chosen.add(s);
        }
      }
      if (!chosen.isEmpty()) {
        suites = List.copyOf(chosen);
      }
      boolean has13 = suites.stream().anyMatch(TLS13_SUITES::contains);
      boolean hasOlder = suites.stream().anyMatch(s -> !TLS13_SUITES.contains(s));
      if (protocols.equals(List.of("TLSv1.3")) && !has13) {
        // TLS 1.2 suites cannot serve TLS 1.3: both engines would then refuse every handshake.
        problems.add(path + ".cipherSuites", "no suite usable with the enabled protocols " + protocols
            + "; add a TLS 1.3 suite such as TLS_AES_128_GCM_SHA256, or enable TLSv1.2");
      } else if (!protocols.contains("TLSv1.3") && !hasOlder) {
        problems.add(path + ".cipherSuites", "only TLS 1.3 suites listed but TLS 1.3 is not enabled; add "
            + "TLS 1.2 suites or enable TLSv1.3");
      }
    } else {
      Set<String> available = openssl ? opensslSuites : supportedSuites;
      suites = suites.stream().filter(s -> available.contains(s) || openssl && TLS13_SUITES.contains(s)).toList();
    }
    if (openssl && protocols.contains("TLSv1.3") && !suites.containsAll(TLS13_SUITES)) {
      // BoringSSL has no switch for TLS 1.3 suites (all three are AEAD): they stay on whatever is listed.
      notes.add(path + ".cipherSuites: the OpenSSL engine cannot restrict TLS 1.3 suites; all three of "
          + TLS13_SUITES + " stay enabled for TLS 1.3 (use engine: jdk to restrict them)");
    }

    List<String> groups = openssl ? concat(List.of(HYBRID_GROUP), DEFAULT_GROUPS) : DEFAULT_GROUPS;
    if (!config.namedGroups().isEmpty()) {
      Set<String> chosen = new LinkedHashSet<>();
      for (int i = 0; i < config.namedGroups().size(); i++) {
        String g = GROUP_ALIASES.get(config.namedGroups().get(i).trim().toLowerCase(Locale.ROOT));
        if (g != null && openssl && !OPENSSL_GROUPS.containsKey(g)) {
          problems.add(path + ".namedGroups[" + i + "]", "group '" + config.namedGroups().get(i)
              + "' is not supported by the OpenSSL engine; use X25519MLKEM768, X25519, secp256r1, secp384r1 or "
              + "secp521r1, or engine: jdk");
        } else if (g != null && !openssl && g.equals(HYBRID_GROUP)) {
          problems.add(path + ".namedGroups[" + i + "]", "group '" + config.namedGroups().get(i)
              + "' needs engine: openssl (the JDK engine on Java 17 has no ML-KEM)");
        } else if (g == null) {
          problems.add(path + ".namedGroups[" + i + "]", "unknown group '" + config.namedGroups().get(i)
              + "'; use X25519MLKEM768 (openssl), X25519, secp256r1, secp384r1, secp521r1, X448 or ffdhe2048..8192");
        } else {
          chosen.add(g);
        }
      }
      if (!chosen.isEmpty()) {
        groups = List.copyOf(chosen);
      }
    }

    for (int i = 0; i < config.alpn().size(); i++) {
      String a = config.alpn().get(i);
      if (a.isEmpty() || a.length() > 255) {
        problems.add(path + ".alpn[" + i + "]", "an ALPN protocol name must be 1 to 255 characters");
      }
    }
    return new TlsPolicy(profile, protocols, suites, groups, List.copyOf(config.alpn()), weakened, engine,
        List.copyOf(notes));
  }

  /** The BoringSSL name of a JDK group name, or null when BoringSSL lacks it. */
  public static String opensslGroup(String jdkName) {
    return OPENSSL_GROUPS.get(jdkName);
  }

  /** The JDK name of a named group written in any usual spelling, or null when it is unknown. */
  public static String canonicalGroup(String name) {
    return GROUP_ALIASES.get(name.trim().toLowerCase(Locale.ROOT));
  }

  private static String canonicalProtocol(String p) {
    String s = p.trim();
    for (String known : KNOWN_PROTOCOLS) {
      if (known.equalsIgnoreCase(s)) {
        return known;
      }
    }
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "tlsv1.0", "tls1.0", "tls1" -> "TLSv1";
      case "tls1.1" -> "TLSv1.1";
      case "tls1.2" -> "TLSv1.2";
      case "tls1.3" -> "TLSv1.3";
      default -> null;
    };
  }

  private static boolean isBroken(String suite) {
    return suite.contains("_RC4_") || suite.contains("3DES") || suite.contains("_DES_")
        || suite.contains("EXPORT") || suite.contains("_NULL_") || suite.contains("_anon_");
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return List.copyOf(out);
  }
}
