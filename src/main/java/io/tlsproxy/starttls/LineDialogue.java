package io.tlsproxy.starttls;

import io.netty.buffer.ByteBuf;
import io.tlsproxy.tls.HandshakeFailure;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The shared reading of the line-based mail protocols: lines end with LF (CRLF, as sent, is stripped whole), at
 * most {@link #MAX_LINE} bytes each and {@link #MAX_LINES} in all; each complete line goes to {@link #line}.
 * Replies to several lines read at once are sent together.
 */
abstract class LineDialogue implements StartTlsDialogue {

  /** Longer than any command or reply line these protocols send before TLS (RFC 5321 allows 512 for SMTP). */
  static final int MAX_LINE = 4096;
  /** More than a greeting, a capability list and a few refused commands need. */
  static final int MAX_LINES = 100;

  private int lines;

  /** Acts on one line, without its line end. */
  abstract Step line(String line);

  @Override
  public Step read(ByteBuf in) {
    ByteArrayOutputStream replies = new ByteArrayOutputStream();
    while (true) {
      int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
      if (lf < 0) {
        if (in.readableBytes() > MAX_LINE) {
          return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "a line longer than " + MAX_LINE + " bytes")
              .after(replies.toByteArray());
        }
        return Step.more().after(replies.toByteArray());
      }
      int length = lf - in.readerIndex();
      if (length > MAX_LINE) {
        return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "a line longer than " + MAX_LINE + " bytes")
            .after(replies.toByteArray());
      }
      if (++lines > MAX_LINES) {
        return Step.fail(HandshakeFailure.STARTTLS_PROTOCOL_ERROR, "more than " + MAX_LINES + " lines before TLS")
            .after(replies.toByteArray());
      }
      String text = in.toString(in.readerIndex(), length, StandardCharsets.ISO_8859_1);
      in.readerIndex(lf + 1);
      if (text.endsWith("\r")) {
        text = text.substring(0, text.length() - 1);
      }
      Step s = line(text);
      if (s.action() == Step.Action.SEND) {
        replies.writeBytes(s.reply());
      } else if (s.action() != Step.Action.MORE) {
        return s.after(replies.toByteArray());
      }
    }
  }

  @Override
  public Step upgraded() {
    return Step.done();
  }

  /** A line shown in a log: bounded, printable. */
  static String shown(String line) {
    String s = line.length() > 120 ? line.substring(0, 120) + "..." : line;
    return s.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
