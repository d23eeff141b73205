package io.tlsproxy.listen;

import io.tlsproxy.config.UnixAddress;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The file of a listener's Unix socket, around its bind: a file a dead process left behind is removed first (the
 * bind would fail on it), one where a process still listens or that is no socket at all is an error, and the new
 * socket gets its configured mode. Netty's server channel deletes the file when it closes. Abstract names have no
 * file, so nothing here applies to them. Blocking file system calls: run off the event loop.
 */
final class UnixSocketFile {

  private static final Logger LOG = Logger.getLogger("tlsproxy");
  /** {@code S_IFMT} and {@code S_IFSOCK} of stat(2): the file type bits, and the type of a socket. */
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private UnixSocketFile() {
  }

  /** Why a socket file cannot be bound; the message says what to do. */
  static final class Unusable extends IOException {
    Unusable(String message) {
      super(message);
    }
  }

  /**
   * Makes {@code address} free to bind: nothing to do when no file is there; a socket nobody accepts on any more
   * (connecting is refused) is removed; a live socket, a file of another type or a missing directory is an error.
   */
  static void prepare(UnixAddress address, String listener) throws IOException {
    Path file = address.file();
    if (file == null) {
      return;
    }
    Path dir = file.getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw new Unusable("directory " + dir + " does not exist; create it (in Kubernetes, mount a volume there)");
    }
    int mode;
    try {
      mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return;
    }
    if ((mode & S_IFMT) != S_IFSOCK) {
      throw new Unusable(file + " exists and is not a socket; remove it or choose another path");
    }
    if (live(file)) {
      throw new Unusable("a live process listens on " + file + "; stop it or choose another path");
    }
    Files.deleteIfExists(file);
    LOG.info("listener " + listener + ": removed the stale socket file " + file + " (nothing accepted on it)");
  }

  /**
   * Whether something accepts on the socket. The connect does not block: a socket without a listener refuses it at
   * once (ECONNREFUSED), and one whose listener's backlog is full, which a blocking connect would wait on, answers
   * EAGAIN, which is as live as a connect that succeeds.
   */
  private static boolean live(Path file) throws IOException {
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.configureBlocking(false);
      probe.connect(UnixDomainSocketAddress.of(file));
      return true;
    } catch (ConnectException e) {
      return false; // the socket's process is gone
    } catch (IOException e) {
      if (String.valueOf(e.getMessage()).contains("temporarily unavailable")) {
        return true; // EAGAIN: a full backlog
      }
      throw e;
    }
  }

  /** Sets the permission bits of the bound socket file: connecting to it needs write permission. */
  static void applyMode(UnixAddress address, int mode) throws IOException {
    Path file = address.file();
    if (file != null) {
      Files.setPosixFilePermissions(file, permissions(mode));
    }
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
    for (int bit = 0; bit < order.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        out.add(order[bit]);
      }
    }
    return out;
  }
}
