package io.tlsproxy.tls.engine;

import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.internal.tcnative.SSLContext;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Appends the secrets of TLS handshakes to one file in the NSS key log format (lines such as {@code CLIENT_RANDOM}
 * for TLS 1.2 and {@code CLIENT_HANDSHAKE_TRAFFIC_SECRET}, {@code SERVER_TRAFFIC_SECRET_0} for TLS 1.3), which
 * Wireshark and tshark read to decrypt a capture. Only the OpenSSL engine can do this: BoringSSL hands each line to
 * a callback (netty-tcnative's {@code SSLContext.setKeyLogCallback}); the JDK engine does not expose TLS 1.3
 * secrets at all.
 *
 * <p>The callback runs on an event loop in the middle of a handshake, so it only puts the line on a bounded queue
 * (a lock and a signal, no system call); one daemon thread per file writes what is queued, straight to the file,
 * nothing buffered in between. A full queue (the disk is stuck) drops lines rather than stalling handshakes; the
 * first drop is logged. The file is created with mode 0600 and appended to; an existing file is narrowed to 0600.
 */
public final class KeyLog {

  private static final Logger LOG = Logger.getLogger("tlsproxy.tls");
  /** About 100 bytes per line and five lines per TLS 1.3 handshake: room for some 1,600 handshakes' worth. */
  static final int QUEUE_LINES = 8192;
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  /**
   * tcnative's {@code SSLContext} functions take its own context handle, which Netty keeps in the protected field
   * {@code ctx}; the public {@code context()} and {@code sslCtxPointer()} return the BoringSSL {@code SSL_CTX}
   * pointer instead, which crashes the JVM when given to {@code setKeyLogCallback}. Netty has no public way to
   * set the callback (as of 4.2.12), so the field is read once here; null if a Netty version lacks it, and then
   * {@link #attach} refuses rather than guesses.
   */
  private static final Field TCN_CONTEXT = tcnContextField();

  private static Field tcnContextField() {
    try {
      Field f = ReferenceCountedOpenSslContext.class.getDeclaredField("ctx");
      if (f.getType() != long.class) {
        return null;
      }
      f.setAccessible(true);
      return f;
    } catch (NoSuchFieldException | RuntimeException e) {
      return null;
    }
  }

  private final Path file;
  private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(QUEUE_LINES);
  private final AtomicLong dropped = new AtomicLong();
  private volatile Thread writer;

  /** A log appending to {@code file}; nothing is opened before the first line. */
  public KeyLog(Path file) {
    this.file = file;
  }

  public Path file() {
    return file;
  }

  /**
   * Sends the secrets of every handshake of {@code ctx} to this log. Returns false when {@code ctx} is not an
   * OpenSSL context, or the native library refused; nothing is logged then.
   */
  public boolean attach(SslContext ctx) {
    if (!(ctx instanceof ReferenceCountedOpenSslContext) || TCN_CONTEXT == null) {
      return false;
    }
    long handle;
    try {
      handle = TCN_CONTEXT.getLong(ctx);
    } catch (IllegalAccessException e) {
      return false;
    }
    return handle != 0 && SSLContext.setKeyLogCallback(handle, (ssl, line) -> offer(line));
  }

  /** Queues one line (with or without its newline); never blocks. */
  void offer(byte[] line) {
    if (writer == null) {
      startWriter();
    }
    if (!queue.offer(line) && dropped.incrementAndGet() == 1) {
      LOG.warning("key log " + file + ": writing does not keep up; lines are dropped (logged once)");
    }
  }

  /** Lines dropped so far because the queue was full. */
  long dropped() {
    return dropped.get();
  }

  private synchronized void startWriter() {
    if (writer == null) {
      writer = new Thread(this::writeLoop, "tlsproxy-keylog");
      writer.setDaemon(true);
      writer.start();
    }
  }

  private void writeLoop() {
    FileChannel out = null;
    List<byte[]> batch = new ArrayList<>();
    boolean failed = false;
    while (!Thread.currentThread().isInterrupted()) {
      try {
        batch.add(queue.take());
        queue.drainTo(batch);
        if (out == null) {
          out = open(file);
        }
        out.write(buffer(batch));
        failed = false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        if (!failed) {
          LOG.warning("key log " + file + ": cannot write: " + e.getMessage() + "; its lines are dropped until it "
              + "can");
        }
        failed = true;
        out = closeQuietly(out);
      }
      batch.clear();
    }
    closeQuietly(out);
  }

  static FileChannel open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.APPEND,
        StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    if (!Files.getPosixFilePermissions(file).equals(OWNER_ONLY)) {
      try {
        Files.setPosixFilePermissions(file, OWNER_ONLY);
      } catch (IOException e) {
        LOG.warning("key log " + file + ": cannot narrow its permissions to 0600: " + e.getMessage());
      }
    }
    return ch;
  }

  private static ByteBuffer buffer(List<byte[]> lines) {
    int size = 0;
    for (byte[] l : lines) {
      size += l.length + 1;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    for (byte[] l : lines) {
      b.put(l);
      if (l.length == 0 || l[l.length - 1] != '\n') {
        b.put((byte) '\n');
      }
    }
    return b.flip();
  }

  private static FileChannel closeQuietly(FileChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException e) {
        // Closing after a failed write: the failure was logged already.
      }
    }
    return null;
  }
}
