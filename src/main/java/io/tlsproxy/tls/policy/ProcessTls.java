package io.tlsproxy.tls.policy;

import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.PolicyConfig;
import java.security.Security;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The few TLS settings the JDK has only per process. On Java 17 the JDK engine takes named groups from one system
 * property for the whole process (SSLParameters#setNamedGroups arrived in Java 20), and TLS 1.0/1.1 are disabled in
 * java.security. Both must be set before the first TLS use, so they are decided once, before anything is built.
 */
public final class ProcessTls {

  private ProcessTls() {
  }

  /**
   * Sets the process-wide properties that {@code policies} (every TLS section's) need. Conflicts (two different
   * JDK group lists) go to {@code problems}; the re-enabling of TLS 1.0/1.1 for a {@code legacy} policy goes to
   * {@code warnings}. A property the operator set on the command line is kept.
   */
  public static void apply(List<PolicyConfig> policies, ConfigProblems problems, List<String> warnings) {
    List<String> groups = null;
    String groupsPath = null;
    boolean legacy = false;
    String defaultEngine = PolicyResolver.defaultEngine();
    for (PolicyConfig p : policies) {
      boolean jdk = TlsPolicy.JDK.equals(PolicyResolver.engineOf(p, defaultEngine));
      legacy |= jdk && p.profile().trim().equalsIgnoreCase("legacy");
      if (!jdk || p.namedGroups().isEmpty()) {
        continue; // the OpenSSL engine takes groups per context
      }
      List<String> these = p.namedGroups().stream().map(PolicyResolver::canonicalGroup).toList();
      if (these.contains(null)) {
        continue; // the resolver reports the unknown name
      }
      if (groups == null) {
        groups = these;
        groupsPath = p.path() + ".namedGroups";
      } else if (!groups.equals(these)) {
        problems.add(p.path() + ".namedGroups", "differs from " + groupsPath + "; the JDK engine on Java 17 uses "
            + "one list of groups for the whole process, so give every jdk-engine namedGroups the same list");
      }
    }
    if (System.getProperty("jdk.tls.namedGroups") == null) {
      System.setProperty("jdk.tls.namedGroups", String.join(",",
          groups != null ? groups : PolicyResolver.DEFAULT_GROUPS));
    }
    if (legacy) {
      String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
      if (disabled != null) {
        String kept = Arrays.stream(disabled.split(","))
            .map(String::trim)
            .filter(s -> !s.equals("TLSv1") && !s.equals("TLSv1.1"))
            .collect(Collectors.joining(", "));
        Security.setProperty("jdk.tls.disabledAlgorithms", kept);
      }
      warnings.add("policy legacy is in use: TLS 1.0 and 1.1 are re-enabled in this JVM for the sections that "
          + "name it");
    }
  }

  /** The groups the JDK engine uses in this process: the process-wide list where it is set, else {@code configured}. */
  public static List<String> jdkGroups(List<String> configured) {
    String prop = System.getProperty("jdk.tls.namedGroups");
    return prop == null ? configured : List.of(prop.split(","));
  }
}
