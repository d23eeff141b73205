package io.tlsproxy.proxy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The open connections of the whole proxy, so that a drain knows when it is done and what to close. */
public final class ConnectionTracker {

  private final Set<ProxyConnection> open = ConcurrentHashMap.newKeySet();

  void add(ProxyConnection c) {
    open.add(c);
  }

  void remove(ProxyConnection c) {
    open.remove(c);
  }

  public int size() {
    return open.size();
  }

  /** Closes every open connection on its own event loop. */
  public void closeAll(String reason) {
    for (ProxyConnection c : open) {
      c.closeFromOutside(reason);
    }
  }
}
