package io.tlsproxy.starttls;

import io.tlsproxy.tls.HandshakeFailure;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** IMAP's {@code STARTTLS} (RFC 9051 section 6.2.1, RFC 3501 section 6.2.1). */
final class Imap {

  static final String CAPABILITIES = "IMAP4rev1 STARTTLS LOGINDISABLED";
  static final String GREETING = "* OK [CAPABILITY " + CAPABILITIES + "] tlsproxy ready\r\n";
  /** The tag tlsproxy uses for its own STARTTLS command. */
  static final String TAG = "tls1";
  /** {@code * OK [CODE ...] text}: the response code is dropped from the greeting passed on to the client. */
  private static final Pattern OK_GREETING = Pattern.compile("\\* OK(?: \\[[^\\]]*\\])?(.*)",
      Pattern.CASE_INSENSITIVE);
  private static final Pattern TAGGED = Pattern.compile("([^ ]+) (OK|NO|BAD)( .*)?", Pattern.CASE_INSENSITIVE);

  private Imap() {
  }

  static StartTlsDialogue forRole(StartTlsDialogue.Role role) {
    return switch (role) {
      case ORIGINATE -> new Originate();
      case TERMINATE -> new Terminate();
      case TERMINATE_BACKEND -> new Backend();
      case ORIGINATE_CLIENT -> StartTlsDialogue.none();
    };
  }

  /** tlsproxy as the client: greeting, then STARTTLS; the client is then greeted without capability codes. */
  static final class Originate extends LineDialogue {
    private enum State { GREETING, STARTTLS, TLS }

    private State state = State.GREETING;
    private String greetingText;

    @Override
    public Step start() {
      return Step.more();
    }

    @Override
    Step line(String line) {
      switch (state) {
        case GREETING: {
          Matcher ok = OK_GREETING.matcher(line);
          if (ok.matches()) {
            greetingText = ok.group(1).isBlank() ? " IMAP server ready" : ok.group(1);
            state = State.STARTTLS;
            return Step.send(TAG + " STARTTLS\r\n");
          }
          if (line.regionMatches(true, 0, "* PREAUTH", 0, 9) || line.regionMatches(true, 0, "* BYE", 0, 5)) {
            return Step.fail(HandshakeFailure.STARTTLS_REFUSED, "greeting " + shown(line));
          }
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "not an IMAP greeting: " + shown(line));
        }
        case STARTTLS: {
          if (line.startsWith("* ")) {
            return Step.more(); // untagged data before the answer, e.g. a capability list
          }
          Matcher tagged = TAGGED.matcher(line);
          if (!tagged.matches() || !tagged.group(1).equals(TAG)) {
            return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "not an answer to STARTTLS: " + shown(line));
          }
          if (!tagged.group(2).equalsIgnoreCase("OK")) {
            return Step.fail(HandshakeFailure.STARTTLS_REFUSED, "STARTTLS answered " + shown(line));
          }
          state = State.TLS;
          return Step.upgrade("");
        }
        default:
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "a line after the upgrade");
      }
    }

    /**
     * The client is greeted without the server's capability code: what the server offers changes with TLS (no
     * STARTTLS, no LOGINDISABLED), and a client asking CAPABILITY now gets the answer over TLS.
     */
    @Override
    public Step upgraded() {
      return Step.done(Step.ascii("* OK" + greetingText + "\r\n"));
    }

    @Override
    public Step inputEnded() {
      return Step.fail(state == State.GREETING ? HandshakeFailure.STARTTLS_PROTOCOL_ERROR
          : HandshakeFailure.STARTTLS_REFUSED, "the server closed in state " + state);
    }
  }

  /** tlsproxy as the server: greets, offers STARTTLS, refuses everything else until the client upgrades. */
  static final class Terminate extends MailServer {
    Terminate() {
      super(GREETING, "STARTTLS", "* BYE too many commands without STARTTLS\r\n");
    }

    @Override
    Step command(String line) {
      String[] words = line.trim().split(" +", 3);
      if (words.length < 2 || words[0].isEmpty()) {
        return refuse("* BAD a command needs a tag and a name\r\n");
      }
      String tag = words[0];
      return switch (words[1].toUpperCase(Locale.ROOT)) {
        case "CAPABILITY" -> Step.send("* CAPABILITY " + CAPABILITIES + "\r\n" + tag + " OK CAPABILITY completed\r\n");
        case "NOOP" -> Step.send(tag + " OK NOOP completed\r\n");
        case "STARTTLS" -> Step.upgrade(tag + " OK Begin TLS negotiation now\r\n");
        case "LOGOUT" -> quit("* BYE logging out\r\n" + tag + " OK LOGOUT completed\r\n");
        default -> refuse(tag + " NO [PRIVACYREQUIRED] TLS required: issue STARTTLS first\r\n");
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
      if (OK_GREETING.matcher(line).matches()) {
        return Step.done();
      }
      return Step.fail(line.regionMatches(true, 0, "* BYE", 0, 5) ? HandshakeFailure.STARTTLS_REFUSED
          : HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "backend greeting " + shown(line));
    }

    @Override
    public Step inputEnded() {
      return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "the backend closed before its greeting");
    }
  }
}
