package io.tlsproxy.relay;

/** The two legs of a proxied connection. */
enum Side {
  /** The client that connected to the listener. */
  DOWNSTREAM,
  /** The endpoint tlsproxy dialled. */
  UPSTREAM
}
