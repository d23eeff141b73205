package io.tlsproxy.testkit;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The system user that danted's {@code socksmethod: username} checks SOCKS5 credentials against: danted has no
 * password file of its own, it asks the system (passwd/shadow, RFC 1929 credentials as a login). The user
 * {@value #NAME} has no home and no shell; it is created when missing and gets a new random password on every
 * {@link #withFreshPassword()}, which needs root ({@code useradd}, {@code chpasswd}); CI runs as root.
 */
public final class SystemUser {

  public static final String NAME = "tlsproxy-socks";

  private final String password;

  private SystemUser(String password) {
    this.password = password;
  }

  /** Whether this process may create the user and set its password. */
  public static boolean canManage() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Creates {@value #NAME} if missing and sets a new random password, returned here. */
  public static SystemUser withFreshPassword() throws Exception {
    ExternalProcess id = ExternalProcess.run(null, Duration.ofSeconds(10), "id", "-u", NAME);
    if (id.process().exitValue() != 0) {
      ExternalProcess add = ExternalProcess.run(null, Duration.ofSeconds(20), "useradd", "--system",
          "--no-create-home", "--shell", "/usr/sbin/nologin", NAME);
      if (add.process().exitValue() != 0) {
        throw new AssertionError("useradd " + NAME + " failed: " + add.output());
      }
    }
    byte[] random = new byte[12];
    new SecureRandom().nextBytes(random);
    String password = "pw-" + HexFormat.of().formatHex(random);
    ExternalProcess chpasswd = ExternalProcess.start(null, java.util.List.of("chpasswd"));
    chpasswd.stdin().write((NAME + ":" + password + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    chpasswd.stdin().close();
    if (chpasswd.awaitExit(Duration.ofSeconds(20)) != 0) {
      throw new AssertionError("chpasswd failed: " + chpasswd.output());
    }
    return new SystemUser(password);
  }

  public String name() {
    return NAME;
  }

  public String password() {
    return password;
  }
}
