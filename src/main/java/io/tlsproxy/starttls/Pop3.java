package io.tlsproxy.starttls;

import io.tlsproxy.tls.HandshakeFailure;

/** POP3's {@code STLS} (RFC 2595 section 4); capabilities as in RFC 2449. */
final class Pop3 {

  static final String GREETING = "+OK tlsproxy POP3 ready\r\n";
  static final String TLS_REQUIRED = "-ERR [AUTH] TLS required: issue STLS first\r\n";

  private Pop3() {
  }

  static StartTlsDialogue forRole(StartTlsDialogue.Role role) {
    return switch (role) {
      case ORIGINATE -> new Originate();
      case TERMINATE -> new Terminate();
      case TERMINATE_BACKEND -> new Backend();
      case ORIGINATE_CLIENT -> StartTlsDialogue.none();
    };
  }

  private static boolean ok(String line) {
    return line.equals("+OK") || line.startsWith("+OK ");
  }

  private static boolean err(String line) {
    return line.equals("-ERR") || line.startsWith("-ERR ");
  }

  /** tlsproxy as the client: greeting, then STLS; the client then gets the server's greeting. */
  static final class Originate extends LineDialogue {
    private enum State { GREETING, STLS, TLS }

    private State state = State.GREETING;
    private String greeting;

    @Override
    public Step start() {
      return Step.more();
    }

    @Override
    Step line(String line) {
      switch (state) {
        case GREETING:
          if (ok(line)) {
            greeting = line; // kept whole: an APOP timestamp in it stays valid
            state = State.STLS;
            return Step.send("STLS\r\n");
          }
          return Step.fail(err(line) ? HandshakeFailure.STARTTLS_REFUSED : HandshakeFailure.STARTTLS_PROTOCOL_ERROR,
              "greeting " + shown(line));
        case STLS:
          if (ok(line)) {
            state = State.TLS;
            return Step.upgrade("");
          }
          return Step.fail(err(line) ? HandshakeFailure.STARTTLS_REFUSED : HandshakeFailure.STARTTLS_PROTOCOL_ERROR,
              "STLS answered " + shown(line));
        default:
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "a line after the upgrade");
      }
    }

    @Override
    public Step upgraded() {
      return Step.done(Step.ascii(greeting + "\r\n"));
    }

    @Override
    public Step inputEnded() {
      return Step.fail(state == State.GREETING ? HandshakeFailure.STARTTLS_PROTOCOL_ERROR
          : HandshakeFailure.STARTTLS_REFUSED, "the server closed in state " + state);
    }
  }

  /** tlsproxy as the server: greets, offers STLS, refuses everything else until the client upgrades. */
  static final class Terminate extends MailServer {
    Terminate() {
      super(GREETING, "STLS", "-ERR too many commands without STLS\r\n");
    }

    @Override
    Step command(String line) {
      return switch (Smtp.verb(line)) {
        case "CAPA" -> Step.send("+OK capability list follows\r\nSTLS\r\n.\r\n");
        case "STLS" -> Step.upgrade("+OK Begin TLS negotiation\r\n");
        case "QUIT" -> quit("+OK bye\r\n");
        default -> refuse(TLS_REQUIRED);
      };
    }
  }

  /** The plaintext backend behind a terminating listener: its greeting is dropped. */
  static final class Backend extends LineDialogue {
    @Override
    public Step start() {
      return Step.more();
    }

    @Override
    Step line(String line) {
      if (ok(line)) {
        return Step.done();
      }
      return Step.fail(err(line) ? HandshakeFailure.STARTTLS_REFUSED : HandshakeFailure.STARTTLS_PROTOCOL_ERROR,
          "backend greeting " + shown(line));
    }

    @Override
    public Step inputEnded() {
      return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "the backend closed before its greeting");
    }
  }
}
