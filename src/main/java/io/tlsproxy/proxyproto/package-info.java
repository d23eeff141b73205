/**
 * The PROXY protocol (versions 1 and 2) as plain data: a header record, a bounded incremental decoder and an
 * encoder. It knows nothing of sockets, Netty or Vert.x; the listener feeds it bytes and decides what a
 * result means for a connection. Written from the protocol's published specification.
 */
package io.tlsproxy.proxyproto;
