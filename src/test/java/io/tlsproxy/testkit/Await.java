package io.tlsproxy.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polling with a deadline, for conditions that another thread or process makes true. */
public final class Await {

  private Await() {
  }

  /** Polls {@code condition} every 10 ms until it holds; fails naming {@code what} after {@code timeout}. */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout + ": " + what);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for: " + what, e);
      }
    }
  }
}
