package io.tlsproxy.starttls;

import java.nio.charset.StandardCharsets;

/**
 * What a {@link StartTlsDialogue} asks for after an event.
 *
 * @param action  what happens next
 * @param reply   bytes for the peer the dialogue talks to, written before the action takes effect (before TLS
 *                starts, or before the connection closes); never null
 * @param forward on {@link Action#DONE}: bytes for the other side of the connection (the greeting an originating
 *                listener gives its plaintext client); never null
 * @param reason  on {@link Action#FAIL}: the reason counted, one of {@link io.tlsproxy.tls.HandshakeFailure}'s
 * @param detail  on {@link Action#FAIL}: what the peer said or did, for the log; may be null
 */
public record Step(Action action, byte[] reply, byte[] forward, String reason, String detail) {

  private static final byte[] NONE = new byte[0];
  private static final Step MORE = new Step(Action.MORE, NONE, NONE, null, null);

  /** What happens next. */
  public enum Action {
    /** Nothing to do until more bytes come. */
    MORE,
    /** Send {@link #reply()} and keep reading. */
    SEND,
    /** Send {@link #reply()}, then start TLS with the peer: no byte the peer sent before may be left unread. */
    UPGRADE,
    /**
     * Start TLS with the peer at once, without a reply: the bytes left unread are the start of its handshake
     * (PostgreSQL 17's direct TLS), handed to TLS, never to the relay.
     */
    DIRECT_TLS,
    /** The dialogue is over: relay from here; bytes left unread belong to the relay. */
    DONE,
    /** Send {@link #reply()}, then close the connection for {@link #reason()}. */
    FAIL
  }

  public static Step more() {
    return MORE;
  }

  public static Step send(String text) {
    return new Step(Action.SEND, ascii(text), NONE, null, null);
  }

  public static Step upgrade(String text) {
    return new Step(Action.UPGRADE, ascii(text), NONE, null, null);
  }

  /** Sends binary {@code bytes} (a database protocol's message) and keeps reading. */
  public static Step send(byte[] bytes) {
    return new Step(Action.SEND, bytes, NONE, null, null);
  }

  /** Sends binary {@code bytes}, then starts TLS with the peer. */
  public static Step upgrade(byte[] bytes) {
    return new Step(Action.UPGRADE, bytes, NONE, null, null);
  }

  /** TLS starts at once with the bytes the peer sent left unread: see {@link Action#DIRECT_TLS}. */
  public static Step directTls() {
    return new Step(Action.DIRECT_TLS, NONE, NONE, null, null);
  }

  /** Sends binary {@code reply}, then closes for {@code reason}. */
  public static Step fail(String reason, String detail, byte[] reply) {
    return new Step(Action.FAIL, reply, NONE, reason, detail);
  }

  public static Step done() {
    return done(NONE);
  }

  public static Step done(byte[] forward) {
    return new Step(Action.DONE, NONE, forward, null, null);
  }

  public static Step fail(String reason, String detail) {
    return fail(reason, detail, "");
  }

  public static Step fail(String reason, String detail, String reply) {
    return new Step(Action.FAIL, ascii(reply), NONE, reason, detail);
  }

  /** This step with {@code earlier} sent ahead of its own reply. */
  Step after(byte[] earlier) {
    if (earlier.length == 0) {
      return this;
    }
    byte[] both = new byte[earlier.length + reply.length];
    System.arraycopy(earlier, 0, both, 0, earlier.length);
    System.arraycopy(reply, 0, both, earlier.length, reply.length);
    return new Step(action == Action.MORE ? Action.SEND : action, both, forward, reason, detail);
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public String toString() {
    return "Step[" + action + (reply.length > 0 ? " reply=" + new String(reply, StandardCharsets.US_ASCII).strip()
        : "") + (reason != null ? " reason=" + reason : "") + (detail != null ? " detail=" + detail : "") + "]";
  }
}
