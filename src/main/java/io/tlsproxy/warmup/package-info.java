/**
 * The start-up warm-up: before the proxy reports ready, connection set-ups are driven through listeners that
 * mirror the configured ones (same mode, TLS policy and engine, certificates) but point at throwaway loopback
 * endpoints of their own, so that the JIT has compiled the set-up path when the first clients come. It never
 * connects to a configured upstream or health-check target, and its connections are recorded in a registry of
 * their own that nobody scrapes.
 */
package io.tlsproxy.warmup;
