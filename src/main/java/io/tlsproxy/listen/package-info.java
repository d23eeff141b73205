/**
 * Accepting: one listener verticle per configured listener, bound with a Netty bootstrap on Vert.x's loops to a
 * TCP port or a Unix socket (whose file it replaces when stale and gives its mode), the connection and
 * handshake-rate limits in front of it, the PROXY protocol header read before anything else, and
 * {@link io.tlsproxy.listen.ProxyServer}, which starts, drains and stops all listeners. Each accepted connection is
 * handed to the relay; nothing here reads application bytes.
 */
package io.tlsproxy.listen;
