/**
 * One connection's life: {@link io.tlsproxy.relay.ProxyConnection} with its stated
 * {@link io.tlsproxy.relay.ConnectionState}s, the client side until it is routed, the upstream side until it is
 * ready, the two relay legs (backpressure, half-close, timeouts), the typed {@link io.tlsproxy.metrics.CloseReason}
 * of every close, and the access log line. It uses routing and upstream; neither knows it.
 */
package io.tlsproxy.relay;
