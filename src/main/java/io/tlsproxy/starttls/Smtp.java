package io.tlsproxy.starttls;

import io.tlsproxy.tls.HandshakeFailure;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * SMTP's {@code STARTTLS} (RFC 3207). A reply is one or more lines {@code NNN-text} ending with {@code NNN text}
 * (RFC 5321 section 4.2.1).
 */
final class Smtp {

  static final String GREETING = "220 tlsproxy ESMTP ready\r\n";
  static final String TLS_REQUIRED = "530 5.7.0 Must issue a STARTTLS command first\r\n";
  private static final Pattern REPLY_LINE = Pattern.compile("[2-5][0-9][0-9]([ -].*)?");

  private Smtp() {
  }

  static StartTlsDialogue forRole(StartTlsDialogue.Role role) {
    return switch (role) {
      case ORIGINATE -> new Originate();
      case TERMINATE -> new Terminate();
      case TERMINATE_BACKEND -> new Backend();
      case ORIGINATE_CLIENT -> StartTlsDialogue.none();
    };
  }

  /** Collects the lines of one reply; reports the reply once its last line came. */
  private abstract static class ReplyReader extends LineDialogue {
    private final ByteArrayOutputStream reply = new ByteArrayOutputStream();
    private final StringBuilder text = new StringBuilder();

    @Override
    final Step line(String line) {
      if (!REPLY_LINE.matcher(line).matches()) {
        return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "not an SMTP reply: " + shown(line));
      }
      reply.writeBytes((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      text.append(line).append('\n');
      if (line.length() > 3 && line.charAt(3) == '-') {
        return Step.more();
      }
      int code = Integer.parseInt(line.substring(0, 3));
      byte[] bytes = reply.toByteArray();
      String all = text.toString();
      reply.reset();
      text.setLength(0);
      return reply(code, all, bytes);
    }

    /** A whole reply: its code, its lines (each ending with LF) and its bytes as sent (CRLF line ends). */
    abstract Step reply(int code, String lines, byte[] bytes);
  }

  /** tlsproxy as the client: greeting, EHLO, STARTTLS; the client is then given the server's greeting. */
  static final class Originate extends ReplyReader {
    private enum State { GREETING, EHLO, STARTTLS, TLS }

    private State state = State.GREETING;
    private byte[] greeting;

    @Override
    public Step start() {
      return Step.more();
    }

    @Override
    Step reply(int code, String lines, byte[] bytes) {
      switch (state) {
        case GREETING:
          if (code != 220) {
            return Step.fail(HandshakeFailure.STARTTLS_REFUSED, "greeting " + shown(firstLine(lines)));
          }
          greeting = bytes;
          state = State.EHLO;
          return Step.send("EHLO localhost\r\n");
        case EHLO:
          if (code != 250) {
            return Step.fail(HandshakeFailure.STARTTLS_REFUSED, "EHLO answered " + shown(firstLine(lines)));
          }
          if (!offersStartTls(lines)) {
            return Step.fail(HandshakeFailure.STARTTLS_REFUSED, "the server does not offer STARTTLS");
          }
          state = State.STARTTLS;
          return Step.send("STARTTLS\r\n");
        case STARTTLS:
          if (code != 220) {
            return Step.fail(HandshakeFailure.STARTTLS_REFUSED, "STARTTLS answered " + shown(firstLine(lines)));
          }
          state = State.TLS;
          return Step.upgrade("");
        default:
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "a reply after the upgrade");
      }
    }

    /** The client was not greeted yet: it gets the server's own greeting, and talks to the server from here. */
    @Override
    public Step upgraded() {
      return Step.done(greeting);
    }

    @Override
    public Step inputEnded() {
      return Step.fail(state == State.GREETING ? HandshakeFailure.STARTTLS_PROTOCOL_ERROR
          : HandshakeFailure.STARTTLS_REFUSED, "the server closed in state " + state);
    }

    private static boolean offersStartTls(String lines) {
      for (String line : lines.split("\n")) {
        if (line.length() > 4 && line.substring(4).trim().toUpperCase(Locale.ROOT).equals("STARTTLS")) {
          return true;
        }
      }
      return false;
    }

    private static String firstLine(String lines) {
      int nl = lines.indexOf('\n');
      return nl < 0 ? lines : lines.substring(0, nl);
    }
  }

  /** tlsproxy as the server: greets, offers STARTTLS, refuses everything else until the client upgrades. */
  static final class Terminate extends MailServer {
    Terminate() {
      super(GREETING, "STARTTLS", "421 4.7.0 Too many commands without STARTTLS\r\n");
    }

    @Override
    Step command(String line) {
      String verb = verb(line);
      return switch (verb) {
        case "EHLO" -> Step.send("250-tlsproxy\r\n250 STARTTLS\r\n");
        case "HELO" -> Step.send("250 tlsproxy\r\n");
        case "NOOP", "RSET" -> Step.send("250 2.0.0 OK\r\n");
        case "STARTTLS" -> line.trim().length() == verb.length()
            ? Step.upgrade("220 2.0.0 Ready to start TLS\r\n")
            : Step.send("501 5.5.4 STARTTLS takes no parameters\r\n");
        case "QUIT" -> quit("221 2.0.0 Bye\r\n");
        default -> refuse(TLS_REQUIRED);
      };
    }
  }

  /** The plaintext backend behind a terminating listener: its greeting is dropped. */
  static final class Backend extends ReplyReader {
    @Override
    public Step start() {
      return Step.more();
    }

    @Override
    Step reply(int code, String lines, byte[] bytes) {
      return code == 220 ? Step.done()
          : Step.fail(HandshakeFailure.STARTTLS_REFUSED, "backend greeting " + shown(lines.strip()));
    }

    @Override
    public Step inputEnded() {
      return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "the backend closed before its greeting");
    }
  }

  /** The command word of a line, upper case. */
  static String verb(String line) {
    String t = line.trim();
    int sp = t.indexOf(' ');
    return (sp < 0 ? t : t.substring(0, sp)).toUpperCase(Locale.ROOT);
  }
}
