package io.tlsproxy;

import java.io.PrintStream;

/** Lets tests outside this package run the command line in-process, as {@code tlsproxy ARGS} would. */
public final class CheckAccess {

  private CheckAccess() {
  }

  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Main.run(args, out, err);
  }
}
