/**
 * The one place that reaches into Vert.x's internal API: Netty bootstraps on Vert.x's event loops, transport and
 * allocator, and the handler that ends every pipeline. No proxy logic lives here.
 */
package io.tlsproxy.transport;
