package io.tlsproxy.starttls;

import io.netty.buffer.ByteBuf;
import io.tlsproxy.config.StartTlsProtocol;
import io.tlsproxy.tls.HandshakeFailure;

/**
 * One side's part in a protocol's in-band upgrade to TLS, as a state machine over the bytes one peer sends. The
 * relay calls {@link #start()} once, {@link #read} with everything that peer sent and the dialogue left unread,
 * {@link #upgraded()} once TLS is up after an {@link Step.Action#UPGRADE}, and {@link #inputEnded()} if the peer
 * stops sending first. Every dialogue bounds what it reads (line length, number of lines or messages) and fails
 * with {@link HandshakeFailure#STARTTLS_PROTOCOL_ERROR} past the bound. Not thread-safe: one per connection.
 */
public interface StartTlsDialogue {

  /** The part tlsproxy plays, and with whom. */
  enum Role {
    /** The client of a server that offers the upgrade: tlsproxy upgrades its upstream connection. */
    ORIGINATE,
    /**
     * The plaintext client of an originating listener, once its upstream is upgraded and before bytes are relayed:
     * e.g. a PostgreSQL client's own {@code SSLRequest}, answered "no". Mail protocols have nothing to do here.
     */
    ORIGINATE_CLIENT,
    /** The server a client upgrades with: tlsproxy greets, offers the upgrade and refuses everything else. */
    TERMINATE,
    /**
     * The plaintext backend of a terminating listener, before bytes are relayed: its greeting is read and dropped,
     * since the client was greeted already.
     */
    TERMINATE_BACKEND
  }

  /** The dialogue of {@code protocol} for {@code role}. */
  static StartTlsDialogue forProtocol(StartTlsProtocol protocol, Role role) {
    return switch (protocol) {
      case SMTP -> Smtp.forRole(role);
      case IMAP -> Imap.forRole(role);
      case POP3 -> Pop3.forRole(role);
      case POSTGRES -> Postgres.forRole(role);
      case LDAP -> Ldap.forRole(role);
    };
  }

  /** What to do before anything was read: e.g. the server's greeting when tlsproxy plays the server. */
  Step start();

  /**
   * The peer sent more: {@code in} holds everything not consumed yet. The dialogue consumes what it acted on and
   * leaves the rest unread.
   */
  Step read(ByteBuf in);

  /** TLS is up with the peer after an {@link Step.Action#UPGRADE}. */
  Step upgraded();

  /** The peer stopped sending (or went away) before the dialogue was over: why that failed. */
  Step inputEnded();

  /** A dialogue with nothing to say: done at once. */
  static StartTlsDialogue none() {
    return new StartTlsDialogue() {
      @Override
      public Step start() {
        return Step.done();
      }

      @Override
      public Step read(ByteBuf in) {
        return Step.done();
      }

      @Override
      public Step upgraded() {
        return Step.done();
      }

      @Override
      public Step inputEnded() {
        return Step.done();
      }
    };
  }
}
