/**
 * What the first bytes decide: the route table (SNI names, first match wins, the listener's own upstream as the
 * default), the SNI selector of terminating listeners, and the ClientHello parser and router of passthrough
 * listeners. It picks a route and reports to the connection through {@link io.tlsproxy.routing.RoutingEvents}; it
 * never dials, relays or closes a connection itself.
 */
package io.tlsproxy.routing;
