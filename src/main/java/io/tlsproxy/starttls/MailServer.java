package io.tlsproxy.starttls;

import io.tlsproxy.tls.HandshakeFailure;

/**
 * tlsproxy as an SMTP, IMAP or POP3 server before the client upgrades: it greets, answers the few commands a
 * client sends before it upgrades, refuses the rest with the protocol's "TLS required" reply, and gives up after
 * {@link #MAX_COMMANDS} commands or when the client quits. Each protocol says how it answers one command.
 */
abstract class MailServer extends LineDialogue {

  /** Commands a client may send before it gives up upgrading; more than any real client needs. */
  static final int MAX_COMMANDS = 20;

  private final String greeting;
  private final String upgradeCommand;
  private final String tooManyReply;
  private int commands;

  /**
   * {@code upgradeCommand} is the command's name as logs show it ({@code STARTTLS}, {@code STLS}); {@code
   * tooManyReply} the protocol's last word to a client that sent {@link #MAX_COMMANDS} without it.
   */
  MailServer(String greeting, String upgradeCommand, String tooManyReply) {
    this.greeting = greeting;
    this.upgradeCommand = upgradeCommand;
    this.tooManyReply = tooManyReply;
  }

  /** Acts on one command line of the client's. */
  abstract Step command(String line);

  @Override
  public final Step start() {
    return Step.send(greeting);
  }

  @Override
  final Step line(String line) {
    commands++;
    return command(line);
  }

  /** Refuses a command with {@code reply}, or ends the dialogue once the client has sent too many. */
  final Step refuse(String reply) {
    return commands >= MAX_COMMANDS
        ? Step.fail(HandshakeFailure.STARTTLS_REQUIRED, MAX_COMMANDS + " commands without " + upgradeCommand,
            tooManyReply)
        : Step.send(reply);
  }

  /** The client quit (or logged out) before upgrading: {@code reply} is the protocol's farewell. */
  final Step quit(String reply) {
    return Step.fail(HandshakeFailure.STARTTLS_REQUIRED, "the client quit without " + upgradeCommand, reply);
  }

  @Override
  public final Step inputEnded() {
    return Step.fail(commands > 0 ? HandshakeFailure.STARTTLS_REQUIRED : HandshakeFailure.PEER_CLOSED,
        "the client closed without " + upgradeCommand);
  }
}
