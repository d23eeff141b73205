package io.tlsproxy.tls.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.ssl.OpenSsl;
import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.PolicyConfig;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What each profile resolves to on each engine, how explicit choices override it, and that every name the engine
 * cannot use is reported under its key with the fix. The expected lists are written out here on purpose: they
 * are Mozilla's guidelines (https://wiki.mozilla.org/Security/Server_Side_TLS), not a copy of the resolver's.
 */
class PolicyResolverTest {

  private static final String PATH = "listeners[0].tls";
  private static final List<String> TLS13 = List.of(
      "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
  private static final List<String> INTERMEDIATE = List.of(
      "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
  private static final String ECDSA_128 = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
  private static final String ECDSA_256 = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";

  /** A policy section as the configuration reader makes it; lists left empty take the profile's. */
  private static final class Section {
    private final String engine;
    private String profile = PolicyConfig.DEFAULT_PROFILE;
    private List<String> protocols = List.of();
    private List<String> suites = List.of();
    private List<String> groups = List.of();
    private List<String> alpn = List.of();

    Section(String engine) {
      this.engine = engine;
    }

    Section profile(String name) {
      profile = name;
      return this;
    }

    Section protocols(String... names) {
      protocols = List.of(names);
      return this;
    }

    Section suites(String... names) {
      suites = List.of(names);
      return this;
    }

    Section groups(String... names) {
      groups = List.of(names);
      return this;
    }

    Section alpn(String... names) {
      alpn = List.of(names);
      return this;
    }

    PolicyConfig config() {
      return new PolicyConfig(profile, protocols, suites, groups, alpn, engine, PATH);
    }
  }

  private record Resolved(TlsPolicy policy, List<String> problems) {
  }

  private static Resolved resolve(Section s) {
    ConfigProblems problems = new ConfigProblems();
    TlsPolicy policy = new PolicyResolver(TlsPolicy.OPENSSL).resolve(s.config(), problems);
    return new Resolved(policy, problems.list());
  }

  private static List<String> problems(Section s) {
    return resolve(s).problems();
  }

  private static TlsPolicy resolveCleanly(Section s) {
    Resolved r = resolve(s);
    assertEquals(List.of(), r.problems());
    return r.policy();
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void modernIsTls13OnlyWithItsThreeSuites(String engine) {
    TlsPolicy p = resolveCleanly(new Section(engine).profile("modern"));
    assertEquals("modern", p.profile());
    assertEquals(engine, p.engine());
    assertEquals(List.of("TLSv1.3"), p.protocols());
    assertEquals(TLS13, p.cipherSuites());
    assertFalse(p.weakened());
    assertEquals(List.of(), p.notes());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void intermediateIsTls12AndUpWithAeadSuitesOnlyInOrder(String engine) {
    TlsPolicy p = resolveCleanly(new Section(engine));
    assertEquals("intermediate", p.profile());
    assertEquals(List.of("TLSv1.3", "TLSv1.2"), p.protocols());
    assertEquals(INTERMEDIATE, p.cipherSuites());
    for (String s : p.cipherSuites()) {
      assertTrue(s.contains("_GCM_") || s.contains("_CHACHA20_POLY1305_"), s + " is AEAD");
      assertTrue(TLS13.contains(s) || s.startsWith("TLS_ECDHE_"), s + " has forward secrecy");
    }
    assertFalse(p.weakened());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void legacyAddsOldProtocolsAndCbcSuitesTheEngineHasAndIsWeakened(String engine) {
    TlsPolicy p = resolveCleanly(new Section(engine).profile("legacy"));
    assertEquals(List.of("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"), p.protocols());
    assertTrue(p.allowsPreTls12());
    assertEquals(INTERMEDIATE, p.cipherSuites().subList(0, INTERMEDIATE.size()), "the strong suites stay first");
    assertTrue(p.cipherSuites().contains("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"), p.cipherSuites().toString());
    List<String> missing = new ArrayList<>(p.cipherSuites());
    missing.removeAll(TLS13);
    missing.removeAll(engineSuites(engine));
    assertEquals(List.of(), missing, "suites the engine lacks are left out");
    assertTrue(p.weakened());
  }

  @Test
  void opensslOffersThePostQuantumHybridFirstAndTheJdkEngineDoesNot() {
    assertEquals(List.of("x25519mlkem768", "x25519", "secp256r1", "secp384r1"),
        resolveCleanly(new Section("openssl")).namedGroups());
    assertEquals("X25519MLKEM768", PolicyResolver.opensslGroup("x25519mlkem768"));
    assertEquals(List.of("x25519", "secp256r1", "secp384r1"), resolveCleanly(new Section("jdk")).namedGroups());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void namedGroupsInAnyUsualSpellingAreTakenInOrderOnce(String engine) {
    assertEquals(List.of("secp384r1", "x25519", "secp256r1"),
        resolveCleanly(new Section(engine).groups("P-384", "X25519", "prime256v1", "secp384r1")).namedGroups());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void unknownNamesAreReportedUnderTheirKeyWithTheFix(String engine) {
    Resolved r = resolve(new Section(engine).profile("strict").protocols("TLSv1.2", "SSLv3")
        .suites(ECDSA_128, "TLS_FOO_WITH_BAR").groups("x25519", "curve9"));
    assertEquals(List.of(
        PATH + ".policy: unknown policy 'strict'; use modern, intermediate or legacy",
        PATH + ".protocols[1]: unknown protocol 'SSLv3'; use TLSv1.3 or TLSv1.2",
        PATH + ".cipherSuites[1]: unknown cipher suite 'TLS_FOO_WITH_BAR'; use IANA names such as "
            + "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_AES_128_GCM_SHA256",
        PATH + ".namedGroups[1]: unknown group 'curve9'; use X25519MLKEM768 (openssl), X25519, secp256r1, "
            + "secp384r1, secp521r1, X448 or ffdhe2048..8192"), r.problems());
    // --check goes on with what was valid, so that it can list every problem of the file at once.
    assertEquals("intermediate", r.policy().profile());
    assertEquals(List.of("TLSv1.2"), r.policy().protocols());
    assertEquals(List.of(ECDSA_128), r.policy().cipherSuites());
    assertEquals(List.of("x25519"), r.policy().namedGroups());
  }

  @Test
  void unknownEngineIsReportedUnderItsKey() {
    assertEquals(List.of(PATH + ".engine: unknown engine 'boringssl'; use openssl or jdk"),
        problems(new Section("boringssl")));
  }

  @Test
  void groupsOneEngineLacksAreReportedWithTheEngineThatHasThem() {
    assertEquals(List.of(PATH + ".namedGroups[0]: group 'X25519MLKEM768' needs engine: openssl (the JDK engine on "
        + "Java 17 has no ML-KEM)"), problems(new Section("jdk").groups("X25519MLKEM768")));
    assertEquals(List.of(PATH + ".namedGroups[0]: group 'ffdhe2048' is not supported by the OpenSSL engine; use "
        + "X25519MLKEM768, X25519, secp256r1, secp384r1 or secp521r1, or engine: jdk"),
        problems(new Section("openssl").groups("ffdhe2048")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void weakProtocolsAndBrokenSuitesNeedTheLegacyProfile(String engine) {
    assertEquals(List.of(PATH + ".protocols[0]: TLSv1.1 is insecure and only allowed with policy: legacy",
        PATH + ".cipherSuites[0]: TLS_RSA_WITH_3DES_EDE_CBC_SHA is broken (RC4, 3DES, DES, export, NULL or "
            + "anonymous) and only allowed with policy: legacy"),
        problems(new Section(engine).protocols("TLSv1.1").suites("TLS_RSA_WITH_3DES_EDE_CBC_SHA")));
    assertEquals(List.of("TLSv1.2", "TLSv1.1"),
        resolveCleanly(new Section(engine).profile("legacy").protocols("TLSv1.2", "TLSv1.1")).protocols());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void explicitProtocolsReplaceTheProfilesInAnyUsualSpelling(String engine) {
    TlsPolicy p = resolveCleanly(new Section(engine).protocols("tls1.2", "TLSv1.2"));
    assertEquals(List.of("TLSv1.2"), p.protocols());
    assertFalse(p.weakened(), "TLS 1.2 alone is within the intermediate profile");
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void explicitAeadSuitesKeepTheirOrderAndAreNotWeakened(String engine) {
    TlsPolicy p = resolveCleanly(new Section(engine).protocols("TLSv1.2").suites(ECDSA_256, ECDSA_128));
    assertEquals(List.of(ECDSA_256, ECDSA_128), p.cipherSuites());
    assertFalse(p.weakened());
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void anExplicitSuiteOutsideTheIntermediateProfileWeakensThePolicy(String engine) {
    TlsPolicy p = resolveCleanly(new Section(engine).protocols("TLSv1.2")
        .suites(ECDSA_128, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"));
    assertEquals("intermediate", p.profile());
    assertTrue(p.weakened());
  }

  @Test
  void restrictingTls13SuitesIsNotedOnOpensslWhichCannotDoIt() {
    assertEquals(List.of(PATH + ".cipherSuites: the OpenSSL engine cannot restrict TLS 1.3 suites; all three of "
        + TLS13 + " stay enabled for TLS 1.3 (use engine: jdk to restrict them)"),
        resolveCleanly(new Section("openssl").suites("TLS_AES_256_GCM_SHA384", ECDSA_256)).notes());
    TlsPolicy p = resolveCleanly(new Section("jdk").suites("TLS_AES_256_GCM_SHA384", ECDSA_256));
    assertEquals(List.of("TLS_AES_256_GCM_SHA384", ECDSA_256), p.cipherSuites());
    assertEquals(List.of(), p.notes());
  }

  @Test
  void onlyTls13SuitesWithoutTls13IsReported() {
    assertEquals(List.of(PATH + ".cipherSuites: only TLS 1.3 suites listed but TLS 1.3 is not enabled; add TLS 1.2 "
        + "suites or enable TLSv1.3"), problems(new Section("jdk").protocols("TLSv1.2").suites(TLS13.get(0))));
  }

  /** Every handshake would fail (both engines refuse it: "No appropriate protocol", NO_SUPPORTED_VERSIONS_ENABLED). */
  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void onlyTls12SuitesWithTls13AloneIsReported(String engine) {
    assertEquals(List.of(PATH + ".cipherSuites: no suite usable with the enabled protocols [TLSv1.3]; add a TLS "
        + "1.3 suite such as TLS_AES_128_GCM_SHA256, or enable TLSv1.2"),
        problems(new Section(engine).profile("modern").suites(ECDSA_128)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssl", "jdk"})
  void alpnIsPassedThroughInOrderAndNamesAreChecked(String engine) {
    TlsPolicy p = resolveCleanly(new Section(engine).alpn("h2", "http/1.1"));
    assertEquals(List.of("h2", "http/1.1"), p.alpn());
    assertEquals(engine.equals("openssl"), p.notes().stream().anyMatch(n -> n.startsWith(PATH + ".alpn: with the "
        + "OpenSSL engine an ALPN mismatch does not fail the handshake")), p.notes().toString());
    assertEquals(List.of(PATH + ".alpn[1]: an ALPN protocol name must be 1 to 255 characters",
        PATH + ".alpn[2]: an ALPN protocol name must be 1 to 255 characters"),
        problems(new Section(engine).alpn("h2", "", "x".repeat(256))));
  }

  @Test
  void aSectionsOwnEngineWinsOverTheDefaultInAnyCase() {
    PolicyConfig unnamed = new Section(null).config();
    assertEquals(TlsPolicy.JDK, new PolicyResolver(TlsPolicy.JDK).engineOf(unnamed));
    assertEquals(TlsPolicy.OPENSSL, new PolicyResolver(TlsPolicy.OPENSSL).engineOf(unnamed));
    assertEquals(TlsPolicy.JDK, new PolicyResolver(TlsPolicy.OPENSSL).engineOf(new Section(" JDK ").config()));
    assertEquals(TlsPolicy.OPENSSL, PolicyResolver.engineOf(new Section("OpenSSL").config(), TlsPolicy.JDK));
    assertNull(PolicyResolver.engineOf(new Section("boringssl").config(), TlsPolicy.JDK));
    assertTrue(new PolicyResolver(TlsPolicy.OPENSSL).resolve(unnamed, new ConfigProblems()).openssl());
  }

  @Test
  void theDefaultEngineIsOpensslUnlessTheSystemPropertyNamesAnother() {
    String before = System.getProperty("tlsproxy.defaultEngine");
    try {
      System.clearProperty("tlsproxy.defaultEngine");
      assertTrue(OpenSsl.isAvailable(), "BoringSSL loads here: " + OpenSsl.unavailabilityCause());
      assertEquals(TlsPolicy.OPENSSL, PolicyResolver.defaultEngine());
      assertNull(PolicyResolver.defaultEngineFallback());
      assertEquals(TlsPolicy.OPENSSL, new PolicyResolver().engineOf(new Section(null).config()));

      System.setProperty("tlsproxy.defaultEngine", TlsPolicy.JDK);
      assertEquals(TlsPolicy.JDK, PolicyResolver.defaultEngine());
      assertNull(PolicyResolver.defaultEngineFallback(), "a chosen default is no fallback to warn about");
      assertEquals(TlsPolicy.JDK, new PolicyResolver().engineOf(new Section(null).config()));
      assertEquals(TlsPolicy.OPENSSL, new PolicyResolver().engineOf(new Section("openssl").config()));

      System.setProperty("tlsproxy.defaultEngine", " JDK ");
      assertEquals(TlsPolicy.JDK, PolicyResolver.defaultEngine(), "the property is read as the key is");
    } finally {
      if (before == null) {
        System.clearProperty("tlsproxy.defaultEngine");
      } else {
        System.setProperty("tlsproxy.defaultEngine", before);
      }
    }
  }

  @Test
  void anUnknownDefaultEngineIsNamedAsTheDefaultNotAsTheSectionsKey() {
    ConfigProblems problems = new ConfigProblems();
    new PolicyResolver("boringssl").resolve(new Section(null).config(), problems);
    assertEquals(1, problems.size(), problems.list().toString());
    String problem = problems.list().get(0);
    assertTrue(problem.endsWith("no engine given, and the default -Dtlsproxy.defaultEngine=boringssl is unknown; "
        + "use openssl or jdk"), problem);
  }

  private static Set<String> engineSuites(String engine) {
    if (engine.equals(TlsPolicy.OPENSSL)) {
      return Set.copyOf(OpenSsl.availableJavaCipherSuites());
    }
    try {
      return Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
