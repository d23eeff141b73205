package io.tlsproxy.testkit;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;

/**
 * The system account a real daemon (postgres, slapd) runs as in a test. Under root, the daemon must not keep root's
 * rights (initdb refuses them outright), so commands are run through {@code setpriv}, which switches user and then
 * executes the program itself: the process a test holds is the daemon, and stopping it by its own handle stops the
 * daemon. Under any other user the daemon simply runs as that user. Files the daemon reads are owned by it.
 */
final class DaemonUser {

  private final String name;
  private final boolean switchUser;

  private DaemonUser(String name, boolean switchUser) {
    this.name = name;
    this.switchUser = switchUser;
  }

  /** {@code account} (e.g. "postgres") when this JVM runs as root, the current user otherwise. */
  static DaemonUser forDaemon(String account) {
    boolean root = "root".equals(System.getProperty("user.name"));
    return new DaemonUser(root ? account : System.getProperty("user.name"), root);
  }

  String name() {
    return name;
  }

  /** {@code command} prefixed so that it runs as this user. */
  List<String> command(List<String> command) {
    List<String> full = new ArrayList<>();
    if (switchUser) {
      full.addAll(List.of("setpriv", "--reuid=" + name, "--regid=" + name, "--init-groups", "--"));
    }
    full.addAll(command);
    return full;
  }

  /** A new temporary folder that this user owns, readable only by it. */
  Path tempDir(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix, PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    own(dir);
    return dir;
  }

  /** Writes a copy of {@code source} to {@code target}, owned by this user with mode rw------- (keys need it). */
  void copyPrivate(Path source, Path target) throws IOException {
    Files.copy(source, target);
    makePrivate(target);
  }

  /** Makes {@code file} owned by this user with mode rw-------. */
  void makePrivate(Path file) throws IOException {
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    own(file);
  }

  /** Writes {@code text} to {@code target}, owned by this user. */
  void write(Path target, String text) throws IOException {
    Files.writeString(target, text);
    own(target);
  }

  /** Creates {@code dir}, owned by this user. */
  Path mkdir(Path dir) throws IOException {
    Files.createDirectory(dir);
    own(dir);
    return dir;
  }

  private void own(Path path) throws IOException {
    if (!switchUser) {
      return;
    }
    UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
    PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
    view.setOwner(users.lookupPrincipalByName(name));
    GroupPrincipal group = users.lookupPrincipalByGroupName(name);
    view.setGroup(group);
  }
}
