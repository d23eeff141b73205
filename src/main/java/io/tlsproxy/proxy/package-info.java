/**
 * The proxy: listener verticles, the per-connection relay (backpressure, half-close, timeouts) and the upstream
 * dialer. It receives ready-built TLS contexts and reads no files; it logs one line per connection.
 */
package io.tlsproxy.proxy;
