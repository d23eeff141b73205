package io.tlsproxy.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A folder for a Debian daemon a test starts (its configuration, password file, logs). Started as root, squid and
 * danted drop to their own users (proxy, nobody), which must still read what the test wrote: the folder and its
 * files are world-readable, and the test's own folder becomes traversable (it holds only per-run material).
 */
public final class DaemonDir {

  private static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rwxr-xr-x");

  private DaemonDir() {
  }

  /** {@code parent/name}, created if needed, readable by every user; {@code parent} made traversable. */
  public static Path create(Path parent, String name) throws IOException {
    Set<PosixFilePermission> p = Files.getPosixFilePermissions(parent);
    p.add(PosixFilePermission.OTHERS_EXECUTE);
    p.add(PosixFilePermission.GROUP_EXECUTE);
    Files.setPosixFilePermissions(parent, p);
    Path dir = Files.createDirectories(parent.resolve(name));
    Files.setPosixFilePermissions(dir, READABLE);
    return dir;
  }

  /** Writes {@code text} to {@code dir/file}, readable by every user. */
  public static Path write(Path dir, String file, String text) throws IOException {
    Path f = Files.writeString(dir.resolve(file), text);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    return f;
  }
}
