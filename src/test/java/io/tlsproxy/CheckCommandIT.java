package io.tlsproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code --check} and start-up errors: one line per problem, naming the key, exit code 2, no stack trace. */
class CheckCommandIT {

  @TempDir
  static Path dir;
  static TestPki.Issued ca;
  static TestPki.Issued server;
  static TestPki.Issued other;
  static TestPki.Issued expired;
  static Path p12;

  @BeforeAll
  static void mint() {
    TestPki pki = new TestPki(dir);
    ca = pki.ca("check-ca");
    server = pki.server(ca, "check.test", "check.test");
    other = pki.server(ca, "other.test", "other.test");
    expired = pki.expiredServer(ca, "old.test", "old.test");
    p12 = pki.pkcs12(server, "right-password");
  }

  record Result(int code, String out, String err) {
  }

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Result check(String yaml) throws Exception {
    Path file = Files.createTempFile(dir, "check", ".yaml");
    Files.writeString(file, yaml);
    return run("--check", "--config", file.toString());
  }

  static String tlsListener(String tls) {
    return """
        listeners:
          - name: web
            listen: 127.0.0.1:0
            tls: %s
            upstream: {endpoints: [127.0.0.1:8080]}
        """.formatted(tls);
  }

  static String certs(Path cert, Path key) {
    return "{certificates: [{cert: " + cert + ", key: " + key + "}]}";
  }

  static Stream<Arguments> brokenConfigs() {
    String good = certs(server.certFile(), server.keyFile());
    return Stream.of(
        Arguments.of("yaml syntax", "listeners: [ {name: web", "not valid YAML"),
        Arguments.of("unknown top-level key", "listners: []\n", "listners: unknown key"),
        Arguments.of("no listeners", "admin: {listen: 127.0.0.1:9901}\n", "listeners: missing"),
        Arguments.of("unknown listener key",
            "listeners: [{name: web, listen: 127.0.0.1:0, tsl: {}, upstream: {endpoints: [127.0.0.1:1]}}]\n",
            "listeners[0].tsl: unknown key"),
        Arguments.of("bad name",
            "listeners: [{name: Web_1, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1]}}]\n",
            "listeners[0].name: 'Web_1' may only contain"),
        Arguments.of("name that YAML reads as a boolean",
            "listeners: [{name: off, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1]}}]\n",
            "listeners[0].name: YAML reads this as the boolean false"),
        Arguments.of("duplicate name",
            "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1]}},"
                + " {name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1]}}]\n",
            "listeners[1].name: duplicate listener name 'a'"),
        Arguments.of("bad listen address",
            "listeners: [{name: a, listen: localhost, upstream: {endpoints: [127.0.0.1:1]}}]\n",
            "listeners[0].listen: expected host:port"),
        Arguments.of("port out of range",
            "listeners: [{name: a, listen: 127.0.0.1:70000, upstream: {endpoints: [127.0.0.1:1]}}]\n",
            "listeners[0].listen: port out of range"),
        Arguments.of("missing upstream", "listeners: [{name: a, listen: 127.0.0.1:0}]\n",
            "listeners[0].upstream: missing"),
        Arguments.of("empty endpoints",
            "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: []}}]\n",
            "listeners[0].upstream.endpoints: missing or empty"),
        Arguments.of("bad duration",
            "listeners: [{name: a, listen: 127.0.0.1:0, idleTimeout: 10 minutes,"
                + " upstream: {endpoints: [127.0.0.1:1]}}]\n",
            "listeners[0].idleTimeout: expected a duration"),
        Arguments.of("zero connect timeout",
            "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1], connectTimeout: 0}}]\n",
            "listeners[0].upstream.connectTimeout: must be greater than 0"),
        Arguments.of("bad balance",
            "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1], balance: random}}]\n",
            "listeners[0].upstream.balance: unknown value 'random'; use one of failover, round-robin"),
        Arguments.of("health check timeout not below interval", healthCheck("interval: 1s, timeout: 1s"),
            "listeners[0].upstream.healthCheck.timeout: 1s is not shorter than interval 1s; a check must end before "
                + "the next one starts"),
        Arguments.of("zero unhealthyThreshold", healthCheck("unhealthyThreshold: 0"),
            "listeners[0].upstream.healthCheck.unhealthyThreshold: 0 is out of range; give a whole number from 1 to 2147483647"),
        Arguments.of("healthyThreshold not a number", healthCheck("healthyThreshold: two"),
            "listeners[0].upstream.healthCheck.healthyThreshold: expected a whole number, got 'two'"),
        Arguments.of("zero health check interval", healthCheck("interval: 0"),
            "listeners[0].upstream.healthCheck.interval: must be greater than 0"),
        Arguments.of("unknown health check key", healthCheck("path: /health"),
            "listeners[0].upstream.healthCheck.path: unknown key; allowed here: healthyThreshold, interval, "
                + "requiredForReady, timeout, unhealthyThreshold"),
        Arguments.of("bad dnsTtl",
            "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [db:1], dnsTtl: often}}]\n",
            "listeners[0].upstream.dnsTtl: expected a duration"),
        Arguments.of("acceptDuringDrain not a boolean",
            "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1]}}]\n"
                + "shutdown: {acceptDuringDrain: maybe}\n",
            "shutdown.acceptDuringDrain: expected true or false, got 'maybe'"),
        Arguments.of("unset environment variable",
            "listeners: [{name: a, listen: '127.0.0.1:${TLSPROXY_TEST_UNSET_PORT}',"
                + " upstream: {endpoints: [127.0.0.1:1]}}]\n",
            "listeners[0].listen: environment variable TLSPROXY_TEST_UNSET_PORT is not set"),
        Arguments.of("missing cert file", tlsListener(certs(dir.resolve("nope.pem"), server.keyFile())),
            "listeners[0].tls.certificates[0].cert: file not found: " + dir.resolve("nope.pem")),
        Arguments.of("missing key file", tlsListener(certs(server.certFile(), dir.resolve("nokey.pem"))),
            "listeners[0].tls.certificates[0].key: file not found: " + dir.resolve("nokey.pem")),
        Arguments.of("key of another certificate", tlsListener(certs(server.certFile(), other.keyFile())),
            "listeners[0].tls.certificates[0].key: private key " + other.keyFile() + " does not match"),
        Arguments.of("certificate file holds a key", tlsListener(certs(server.keyFile(), server.keyFile())),
            "listeners[0].tls.certificates[0].cert: "),
        Arguments.of("expired certificate", tlsListener(certs(expired.certFile(), expired.keyFile())),
            "listeners[0].tls.certificates[0].cert: certificate in " + expired.certFile() + " expired on"),
        Arguments.of("keystore with wrong password",
            tlsListener("{certificates: [{keystore: " + p12 + ", password: wrong}]}"),
            "listeners[0].tls.certificates[0].keystore: cannot open keystore " + p12 + ": wrong password"),
        Arguments.of("cert and keystore together",
            tlsListener("{certificates: [{keystore: " + p12 + ", cert: " + server.certFile() + ", key: "
                + server.keyFile() + "}]}"),
            "listeners[0].tls.certificates[0]: give either cert and key (PEM) or keystore"),
        Arguments.of("no certificates", tlsListener("{policy: modern}"),
            "listeners[0].tls.certificates: missing"),
        Arguments.of("unknown policy", tlsListener("{certificates: " + good.substring(15, good.length() - 1)
                + ", policy: paranoid}"),
            "listeners[0].tls.policy: unknown policy 'paranoid'; use modern, intermediate or legacy"),
        Arguments.of("TLS 1.1 without legacy",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], protocols: [TLSv1.2, TLSv1.1]}"),
            "listeners[0].tls.protocols[1]: TLSv1.1 is insecure and only allowed with policy: legacy"),
        Arguments.of("unknown cipher suite",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]}"),
            "listeners[0].tls.cipherSuites[0]: unknown cipher suite 'ECDHE-RSA-AES128-GCM-SHA256'"),
        Arguments.of("broken cipher suite without legacy",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], cipherSuites: [TLS_RSA_WITH_3DES_EDE_CBC_SHA]}"),
            "listeners[0].tls.cipherSuites[0]: TLS_RSA_WITH_3DES_EDE_CBC_SHA is broken"),
        Arguments.of("unknown engine",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], engine: gnutls}"),
            "listeners[0].tls.engine: unknown engine 'gnutls'; use openssl or jdk"),
        Arguments.of("finite-field group on the OpenSSL engine",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], engine: openssl, namedGroups: [ffdhe2048]}"),
            "listeners[0].tls.namedGroups[0]: group 'ffdhe2048' is not supported by the OpenSSL engine"),
        Arguments.of("ticket key rotation beyond a day",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], sessionTicketKeyRotation: 2d}"),
            "listeners[0].tls.sessionTicketKeyRotation: must be between 1s and 24h"),
        Arguments.of("unknown named group",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], namedGroups: [brainpool]}"),
            "listeners[0].tls.namedGroups[0]: unknown group 'brainpool'"),
        Arguments.of("client auth without CA",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], clientAuth: required}"),
            "listeners[0].tls.clientCa: missing; clientAuth required needs the CA"),
        Arguments.of("bad client auth value",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], clientAuth: sometimes}"),
            "listeners[0].tls.clientAuth: unknown value 'sometimes'; use one of none, optional, required"),
        Arguments.of("upstream CA file missing",
            "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1],"
                + " tls: {ca: " + dir.resolve("noca.pem") + "}}}]\n",
            "listeners[0].upstream.tls.ca: file not found: " + dir.resolve("noca.pem")),
        Arguments.of("upstream client cert without key",
            "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1],"
                + " tls: {cert: " + server.certFile() + "}}}]\n",
            "listeners[0].upstream.tls.key: missing; a client certificate needs both cert and key"),
        Arguments.of("insecureSkipVerify not a boolean",
            "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1],"
                + " tls: {insecureSkipVerify: perhaps}}}]\n",
            "listeners[0].upstream.tls.insecureSkipVerify: expected true or false, got 'perhaps'"),
        Arguments.of("bad drain timeout", "shutdown: {drainTimeout: soon}\nlisteners: [{name: a,"
                + " listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1]}}]\n",
            "shutdown.drainTimeout: expected a duration"));
  }

  /** Client allow-lists, upstream identity, CRLs and Secret directories. */
  static Stream<Arguments> brokenIdentityConfigs() throws Exception {
    TestPki pki = new TestPki(dir);
    TestPki.Issued otherCa = pki.ca("other-ca");
    Path otherCaCrl = pki.crl(otherCa);
    Path notACrl = Files.writeString(dir.resolve("not-a-crl.pem"), "hello\n");
    Path noKey = pki.secretDir("no-key", null, ca);
    String mtls = "{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile() + "}], clientAuth: "
        + "required, clientCa: " + ca.certFile() + ", ";
    String upstream = "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1], tls: {";
    return Stream.of(
        Arguments.of("allow without client auth",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], allow: {commonNames: [billing]}}"),
            "listeners[0].tls.allow: needs clientAuth optional or required"),
        Arguments.of("unknown allow key", tlsListener(mtls + "allow: {cn: [billing]}}"),
            "listeners[0].tls.allow.cn: unknown key; allowed here: commonNames, dnsNames, spkiSha256, uris"),
        Arguments.of("allow pin not base64 of 32 bytes", tlsListener(mtls + "allow: {spkiSha256: [abc]}}"),
            "listeners[0].tls.allow.spkiSha256[0]: 'abc' is not the base64 of a SHA-256 (32 bytes)"),
        Arguments.of("allow uri wildcard inside a segment",
            tlsListener(mtls + "allow: {uris: [\"spiffe://prod.example/ns/bill*\"]}}"),
            "listeners[0].tls.allow.uris[0]: 'spiffe://prod.example/ns/bill*': segment 'bill*' mixes * with text"),
        Arguments.of("allow dns wildcard not leftmost",
            tlsListener(mtls + "allow: {dnsNames: [\"a.*.example.com\"]}}"),
            "listeners[0].tls.allow.dnsNames[0]: 'a.*.example.com': * may only be the whole leftmost label"),
        Arguments.of("crl without client auth",
            tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
                + "}], crl: " + otherCaCrl + "}"),
            "listeners[0].tls.crl: needs clientAuth optional or required"),
        Arguments.of("crl file missing", tlsListener(mtls + "crl: " + dir.resolve("none.crl") + "}"),
            "listeners[0].tls.crl: file not found: " + dir.resolve("none.crl")),
        Arguments.of("crl not a crl", tlsListener(mtls + "crl: " + notACrl + "}"),
            "listeners[0].tls.crl: not a valid CRL file " + notACrl),
        Arguments.of("crl of another ca", tlsListener(mtls + "crl: " + otherCaCrl + "}"),
            "listeners[0].tls.crl: the CRL in " + otherCaCrl + " from CN=other-ca is not signed by any CA in "
                + "listeners[0].tls.clientCa"),
        Arguments.of("secretDir without tls.key", tlsListener("{certificates: [{secretDir: " + noKey + "}]}"),
            "listeners[0].tls.certificates[0].secretDir: tls.key not found in " + noKey),
        Arguments.of("secretDir missing", tlsListener("{certificates: [{secretDir: " + dir.resolve("nodir")
                + "}]}"),
            "listeners[0].tls.certificates[0].secretDir: directory not found: " + dir.resolve("nodir")),
        Arguments.of("secretDir and cert", tlsListener("{certificates: [{secretDir: " + noKey + ", cert: "
                + server.certFile() + "}]}"),
            "listeners[0].tls.certificates[0].secretDir: give either secretDir"),
        Arguments.of("clientCaSecretDir without ca.crt", tlsListener("{certificates: [{cert: " + server.certFile()
                + ", key: " + server.keyFile() + "}], clientAuth: required, clientCaSecretDir: "
                + pki.secretDir("no-ca", server, null) + "}"),
            "listeners[0].tls.clientCaSecretDir: ca.crt not found in " + dir.resolve("no-ca")),
        Arguments.of("upstream secretDir without tls.crt", upstream + "secretDir: " + noKey + "}}}]\n",
            "listeners[0].upstream.tls.secretDir: tls.crt not found in " + noKey),
        Arguments.of("upstream verifyUris bad pattern", upstream + "ca: " + ca.certFile()
                + ", verifyUris: [\"spiffe://*/db\"]}}}]\n",
            "listeners[0].upstream.tls.verifyUris[0]: 'spiffe://*/db': wildcards are only allowed as whole path "
                + "segments"),
        Arguments.of("upstream verifyDnsNames empty", upstream + "verifyDnsNames: []}}}]\n",
            "listeners[0].upstream.tls.verifyDnsNames: is empty"),
        Arguments.of("upstream pin with insecureSkipVerify", upstream + "insecureSkipVerify: true, spkiSha256: "
                + "[\"" + "A".repeat(43) + "=\"]}}}]\n",
            "listeners[0].upstream.tls.spkiSha256: has no effect with insecureSkipVerify: true"),
        Arguments.of("upstream crl without ca", upstream + "crl: " + otherCaCrl + "}}}]\n",
            "listeners[0].upstream.tls.crl: needs ca"));
  }

  private static String healthCheck(String keys) {
    return "listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1], healthCheck: {" + keys
        + "}}}]\n";
  }

  @Test
  void staleCrlIsWarnedAboutButStillUsed() throws Exception {
    TestPki pki = new TestPki(dir);
    Path stale = pki.crl(ca, java.time.Instant.now().minus(java.time.Duration.ofDays(1)), false);
    Result r = check(tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
        + "}], clientAuth: required, clientCa: " + ca.certFile() + ", crl: " + stale + "}"));
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    assertTrue(r.out().contains("WARNING: listeners[0].tls.crl: the CRL in " + stale + " from CN=check-ca was due "
        + "to be replaced at "), r.out());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource({"brokenConfigs", "brokenIdentityConfigs"})
  void brokenConfigIsExplainedByKeyWithExitCode2(String title, String yaml, String expected) throws Exception {
    Result r = check(yaml);
    assertEquals(Main.EXIT_USAGE, r.code(), r.err());
    assertTrue(r.err().contains(expected), "expected '" + expected + "' in:\n" + r.err());
    assertNoStackTrace(r.err());
  }

  @Test
  void everyProblemOfAFileIsListedInOneRun() throws Exception {
    Result r = check("""
        listeners:
          - name: BAD
            listen: nowhere
            idleTimeout: forever
            upstream: {endpoints: [127.0.0.1:1], balance: random}
        """);
    assertEquals(Main.EXIT_USAGE, r.code());
    assertTrue(r.err().contains("listeners[0].name:"), r.err());
    assertTrue(r.err().contains("listeners[0].listen:"), r.err());
    assertTrue(r.err().contains("listeners[0].idleTimeout:"), r.err());
    assertTrue(r.err().contains("listeners[0].upstream.balance:"), r.err());
    assertTrue(r.err().contains("4 problems"), r.err());
  }

  @Test
  void missingConfigFileIsOneLine() {
    Result r = run("--check", "--config", dir.resolve("absent.yaml").toString());
    assertEquals(Main.EXIT_USAGE, r.code());
    assertEquals(dir.resolve("absent.yaml") + ": config file not found; pass --config FILE", r.err().trim());
  }

  @Test
  void goodConfigPrintsTheEffectivePolicyOfEachSide() throws Exception {
    Result r = check("""
        listeners:
          - name: web
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %s, key: %s}], clientAuth: optional, clientCa: %s, alpn: [http/1.1],
                  engine: jdk}
            upstream:
              endpoints: [127.0.0.1:8080]
              tls: {serverName: api.internal, ca: %s, policy: modern, engine: jdk}
        """.formatted(server.certFile(), server.keyFile(), ca.certFile(), ca.certFile()));
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    String out = r.out();
    assertTrue(out.contains("protocols: TLSv1.3, TLSv1.2"), out);
    assertTrue(out.contains("cipher suites (in order): TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
        + "TLS_CHACHA20_POLY1305_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), out);
    assertTrue(out.contains("named groups: x25519, secp256r1, secp384r1"), out);
    assertTrue(out.contains("client auth: optional, client trust: " + ca.certFile()), out);
    assertTrue(out.contains("alpn: http/1.1"), out);
    assertTrue(out.contains("upstream TLS policy modern"), out);
    assertTrue(out.contains("host names resolved every 30s, health checks: off"), out);
    assertTrue(out.contains("server name: api.internal, trust: " + ca.certFile() + ", hostname verified: yes"),
        out);
    assertFalse(out.contains("WARNING"), out);
  }

  @Test
  void checkListsEveryRouteWithItsUpstreamTls() throws Exception {
    Result r = check("""
        listeners:
          - name: edge
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %1$s, key: %2$s}]}
            routes:
              - serverNames: [api.check.test]
                certificates: [{cert: %1$s, key: %2$s}]
                upstream: {endpoints: [127.0.0.1:8081], tls: {serverName: api.internal, ca: %3$s}}
          - name: sni
            listen: 127.0.0.1:0
            passthrough: true
            routes:
              - {name: mail, serverNames: [mail.check.test], upstream: {endpoints: [127.0.0.1:8082]}}
            upstream: {endpoints: [127.0.0.1:8083]}
        """.formatted(server.certFile(), server.keyFile(), ca.certFile()));
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    String out = r.out();
    assertTrue(out.contains("  route api.check.test: server names [api.check.test]\n"
        + "    upstream: 127.0.0.1:8081 (failover, connect timeout 5s) TLS\n"), out);
    assertTrue(out.contains("      server name: api.internal, trust: " + ca.certFile()), out);
    assertTrue(out.contains("no default upstream: names no route matches are refused"), out);
    assertTrue(out.contains("listener sni: listen 127.0.0.1:0 (TLS passthrough)"), out);
    assertTrue(out.contains("  route mail: server names [mail.check.test]\n"), out);
    assertTrue(out.contains("  upstream: 127.0.0.1:8083 (failover, connect timeout 5s) plaintext"), out);
    assertEquals(java.util.List.of(), out.lines().filter(l -> l.startsWith("WARNING") && !l.contains(".engine: openssl:"))
        .toList(), "no warning but the OpenSSL engine's notes when it is the default: " + out);
  }

  @Test
  void nameShadowedByAnEarlierWildcardIsWarnedAbout() throws Exception {
    Result r = check("""
        listeners:
          - name: edge
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %s, key: %s}]}
            routes:
              - {serverNames: ["*.check.test"], upstream: {endpoints: [127.0.0.1:8081]}}
              - {serverNames: [api.check.test], upstream: {endpoints: [127.0.0.1:8082]}}
        """.formatted(server.certFile(), server.keyFile()));
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    assertTrue(r.out().contains("WARNING: listeners[0].routes[1].serverNames: 'api.check.test' is matched first by "
        + "'*.check.test' of listeners[0].routes[0], so it never reaches this route; move this route above that "
        + "one if it should"), r.out());
  }

  @Test
  void brokenRouteMaterialIsReportedByItsKey() throws Exception {
    Result r = check("""
        listeners:
          - name: edge
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %1$s, key: %2$s}]}
            routes:
              - serverNames: [api.check.test]
                certificates: [{cert: %3$s, key: %2$s}]
                upstream: {endpoints: [127.0.0.1:8081], tls: {ca: %3$s}}
        """.formatted(server.certFile(), server.keyFile(), dir.resolve("absent.pem")));
    assertEquals(Main.EXIT_USAGE, r.code(), r.out());
    assertTrue(r.err().contains("listeners[0].routes[0].certificates[0].cert: "), r.err());
    assertTrue(r.err().contains("listeners[0].routes[0].upstream.tls.ca: "), r.err());
  }

  @Test
  void checkPrintsAllowListsAndRevocationLists() throws Exception {
    Path crl = new TestPki(dir).crl(ca);
    Result r = check("""
        listeners:
          - name: web
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %s, key: %s}], clientAuth: required, clientCa: %s, crl: %s,
                  allow: {commonNames: [billing], uris: ["spiffe://prod/ns/*"]}}
            upstream: {endpoints: [127.0.0.1:8080]}
        """.formatted(server.certFile(), server.keyFile(), ca.certFile(), crl));
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    assertTrue(r.out().contains("client allow-list: commonNames [billing], dnsNames [], uris [spiffe://prod/ns/*], "
        + "spkiSha256 0 pin(s)"), r.out());
    assertTrue(r.out().contains("client revocation list: " + crl), r.out());
  }

  @Test
  void checkPrintsEachRoutesClientPolicyAndWarnsAboutAWeakerOne() throws Exception {
    TestPki pki = new TestPki(dir);
    TestPki.Issued partnerCa = pki.ca("check-partner-ca");
    Path crl = pki.crl(partnerCa);
    Result r = check("""
        listeners:
          - name: edge
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %1$s, key: %2$s}], clientAuth: required, clientCa: %3$s}
            upstream: {endpoints: [127.0.0.1:8080]}
            routes:
              - {name: inherits, serverNames: [a.check.test], upstream: {endpoints: [127.0.0.1:8081]}}
              - name: partner
                serverNames: [b.check.test]
                clientAuth: required
                clientCa: %4$s
                crl: %5$s
                allow: {commonNames: [bob]}
                upstream: {endpoints: [127.0.0.1:8082]}
              - {name: public, serverNames: [www.check.test], clientAuth: none,
                 upstream: {endpoints: [127.0.0.1:8083]}}
        """.formatted(server.certFile(), server.keyFile(), ca.certFile(), partnerCa.certFile(), crl));
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    String out = r.out();
    assertTrue(out.contains("""
          route inherits: server names [a.check.test]
            client auth: the listener's (required)
        """), out);
    assertTrue(out.contains("""
          route partner: server names [b.check.test]
            client auth: required, client trust: %s
            client allow-list: commonNames [bob], dnsNames [], uris [], spkiSha256 0 pin(s)
            client revocation list: %s
        """.formatted(partnerCa.certFile(), crl)), out);
    assertTrue(out.contains("""
          route public: server names [www.check.test]
            client auth: none, client trust: none
        """), out);
    assertTrue(out.contains("WARNING: listeners[0].routes[2].clientAuth: none is weaker than the listener's "
        + "required: clients of public are not asked for a certificate"), out);
  }

  @Test
  void routeClientCaThatCannotBeReadIsReportedByItsKey() throws Exception {
    Result r = check("""
        listeners:
          - name: edge
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %1$s, key: %2$s}]}
            routes:
              - {serverNames: [api.check.test], clientAuth: required, clientCa: %3$s,
                 upstream: {endpoints: [127.0.0.1:8081]}}
        """.formatted(server.certFile(), server.keyFile(), dir.resolve("absent-ca.pem")));
    assertEquals(Main.EXIT_USAGE, r.code(), r.out());
    assertTrue(r.err().contains("listeners[0].routes[0].clientCa: "), r.err());
  }

  @Test
  void checkSaysWhatTheOpensslEngineCannotHonour() throws Exception {
    Result r = check("""
        listeners:
          - name: web
            listen: 127.0.0.1:0
            tls: {certificates: [{cert: %s, key: %s}], engine: openssl, alpn: [h2],
                  cipherSuites: [TLS_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]}
            upstream: {endpoints: [127.0.0.1:8080]}
        """.formatted(server.certFile(), server.keyFile()));
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    assertTrue(r.out().contains("WARNING: listeners[0].tls.cipherSuites: the OpenSSL engine cannot restrict TLS "
        + "1.3 suites"), r.out());
    assertTrue(r.out().contains("WARNING: listeners[0].tls.alpn: with the OpenSSL engine an ALPN mismatch does "
        + "not fail the handshake"), r.out());
    assertTrue(r.out().contains("named groups: x25519mlkem768, x25519, secp256r1, secp384r1"), r.out());
    assertTrue(r.out().contains("cipher suites (TLS 1.2 in order; TLS 1.3 in the client's order): "), r.out());
  }

  @Test
  void hybridGroupNeedsTheOpensslEngine() throws Exception {
    Result r = check(tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
        + "}], engine: jdk, namedGroups: [X25519MLKEM768]}"));
    assertEquals(Main.EXIT_USAGE, r.code(), r.out());
    assertTrue(r.err().contains("listeners[0].tls.namedGroups[0]: group 'X25519MLKEM768' needs engine: openssl"),
        r.err());
  }

  @Test
  void insecureUpstreamIsFlaggedByCheck() throws Exception {
    Result r = check("listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1],"
        + " tls: {insecureSkipVerify: true}}}]\n");
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    assertTrue(r.out().contains("hostname verified: NO"), r.out());
    assertTrue(r.out().contains("WARNING: listeners[0].upstream.tls: insecureSkipVerify is true: upstream "
        + "certificates are NOT verified"), r.out());
  }

  @Test
  void checkShowsTheEgressProxyButNotItsPassword() throws Exception {
    Result r = check("""
        listeners:
          - name: out
            listen: 127.0.0.1:0
            upstream:
              endpoints: ['api.partner.example:443']
              tls: {}
              via: {type: socks5, address: 'proxy.internal:1080', username: svc-egress,
                    password: '${TLSPROXY_TEST_PROXY_PASSWORD:-hunter2-secret}'}
        """);
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    assertTrue(r.out().contains("  via: socks5 proxy.internal:1080 (user svc-egress)\n"), r.out());
    assertTrue(r.out().contains("host names resolved by the proxy"), r.out());
    assertFalse(r.out().contains("hunter2-secret") || r.err().contains("hunter2-secret"), r.out() + r.err());
  }

  @Test
  void keyLogIsFlaggedAsInsecureByCheckWhichCreatesNoFile() throws Exception {
    Path keys = dir.resolve("check.keys");
    Result r = check(tlsListener("{certificates: [{cert: " + server.certFile() + ", key: " + server.keyFile()
        + "}], engine: openssl, keyLogFile: " + keys + "}"));
    assertEquals(Main.EXIT_OK, r.code(), r.err());
    assertTrue(r.out().contains("WARNING: listeners[0].tls.keyLogFile: the secrets of every TLS session are written "
        + "to " + keys + "; anyone who can read it can decrypt captured traffic: INSECURE, for debugging only"),
        r.out());
    assertFalse(Files.exists(keys), "the file is opened at the first handshake, not by --check");
  }

  @Test
  void keyLogInMissingDirectoryIsOneLineNamingTheKey() throws Exception {
    Path keys = dir.resolve("no-such-dir").resolve("k.log");
    Result r = check("listeners: [{name: a, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:1],"
        + " tls: {engine: openssl, keyLogFile: " + keys + "}}}]\n");
    assertEquals(Main.EXIT_USAGE, r.code(), r.out());
    assertTrue(r.err().contains("listeners[0].upstream.tls.keyLogFile: directory " + keys.getParent()
        + " does not exist; create it or choose another path"), r.err());
  }

  @Test
  void portAlreadyInUseIsOneLineWithExitCode2() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Path file = Files.createTempFile(dir, "busy", ".yaml");
      Files.writeString(file, "listeners: [{name: a, listen: 127.0.0.1:" + taken.getLocalPort()
          + ", upstream: {endpoints: [127.0.0.1:1]}}]\n");
      Result r = run("--config", file.toString());
      assertEquals(Main.EXIT_USAGE, r.code(), r.err());
      assertEquals("listeners[0].listen: cannot listen on 127.0.0.1:" + taken.getLocalPort()
          + ": address already in use; stop the other process or choose another port", r.err().trim());
    }
  }

  @Test
  void unknownArgumentIsRefused() {
    Result r = run("--cofnig", "x.yaml");
    assertEquals(Main.EXIT_USAGE, r.code());
    assertTrue(r.err().startsWith("--cofnig: unknown argument"), r.err());
  }

  @Test
  void versionAndHelpExitZero() {
    assertTrue(run("--version").out().startsWith("tlsproxy "));
    Result help = run("--help");
    assertEquals(Main.EXIT_OK, help.code());
    assertTrue(help.out().contains("--check"), help.out());
  }

  static void assertNoStackTrace(String err) {
    assertFalse(err.contains("\tat ") || err.contains("Exception"), "stack trace or exception name in:\n" + err);
  }
}
