package io.tlsproxy.tls.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.PolicyConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The JDK engine on Java 17 has one list of named groups per process. These tests set that property first, as an
 * operator would on the command line, so that they change nothing for the TLS of other tests in this JVM.
 */
class ProcessTlsTest {

  private static final String GROUPS = "jdk.tls.namedGroups";
  private static final String SET = "x25519,secp256r1,secp384r1";
  private String before;

  @BeforeEach
  void pinGroups() {
    before = System.getProperty(GROUPS);
    System.setProperty(GROUPS, SET);
  }

  @AfterEach
  void restoreGroups() {
    if (before == null) {
      System.clearProperty(GROUPS);
    } else {
      System.setProperty(GROUPS, before);
    }
  }

  private static PolicyConfig section(int listener, String engine, String... groups) {
    return new PolicyConfig("intermediate", List.of(), List.of(), List.of(groups), List.of(), engine,
        "listeners[" + listener + "].tls");
  }

  @Test
  void twoJdkSectionsWithDifferentGroupsAreAProblemNamingBothKeys() {
    ConfigProblems problems = new ConfigProblems();
    List<String> warnings = new ArrayList<>();
    ProcessTls.apply(List.of(section(0, "jdk", "X25519", "P-256"), section(1, "openssl", "x25519mlkem768"),
        section(2, "jdk", "x25519", "secp256r1"), section(3, "jdk", "secp384r1")), problems, warnings);
    assertEquals(List.of("listeners[3].tls.namedGroups: differs from listeners[0].tls.namedGroups; the JDK engine "
        + "on Java 17 uses one list of groups for the whole process, so give every jdk-engine namedGroups the same "
        + "list"), problems.list(), "spellings of one group agree; OpenSSL sections have groups of their own");
    assertEquals(List.of(), warnings);
    assertEquals(SET, System.getProperty(GROUPS), "the operator's setting is kept");
  }

  @Test
  void theJdkEngineUsesTheProcessWideGroupsWhereTheyAreSet() {
    assertEquals(List.of("x25519", "secp256r1", "secp384r1"), ProcessTls.jdkGroups(List.of("secp521r1")));
    System.clearProperty(GROUPS);
    assertEquals(List.of("secp521r1"), ProcessTls.jdkGroups(List.of("secp521r1")));
  }
}
