/**
 * Peer verification beyond the trust chain: trust managers that add revocation lists and allow-lists (client
 * certificates) or identity rules and key pins (upstream certificates). Built from configuration; fails closed.
 */
package io.tlsproxy.tls.peer;
