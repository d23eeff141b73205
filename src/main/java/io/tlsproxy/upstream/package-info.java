/**
 * Where bytes go: the pool of each upstream (endpoints, DNS re-resolution, balancing, health checks), the dialler
 * that opens TCP connections to a chosen endpoint, and the PROXY protocol header sent to it. It knows nothing of
 * client connections or of the relay.
 */
package io.tlsproxy.upstream;
