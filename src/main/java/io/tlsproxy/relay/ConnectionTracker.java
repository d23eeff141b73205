package io.tlsproxy.relay;

import io.tlsproxy.metrics.CloseReason;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open connections of one listener, so that a drain knows when it is done and what to close. Added and
 * removed on the listener's event loop; counted and closed from any thread.
 */
public final class ConnectionTracker {

  private final Set<ProxyConnection> open = ConcurrentHashMap.newKeySet();

  void add(ProxyConnection c) {
    open.add(c);
  }

  /** True when {@code c} was open. */
  boolean remove(ProxyConnection c) {
    return open.remove(c);
  }

  boolean isEmpty() {
    return open.isEmpty();
  }

  /** Closes every open connection at once, as a stopped listener does. On the listener's event loop. */
  void cutAll() {
    new ArrayList<>(open).forEach(ProxyConnection::cut);
  }

  public int size() {
    return open.size();
  }

  /** Closes every open connection on its own event loop. */
  public void closeAll(CloseReason reason) {
    for (ProxyConnection c : open) {
      c.closeFromOutside(reason);
    }
  }
}
