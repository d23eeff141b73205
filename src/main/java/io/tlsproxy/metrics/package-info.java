/**
 * Metrics: the {@link io.tlsproxy.metrics.ProxyMetrics} interface the proxy records into, its Micrometer /
 * Prometheus implementation, a no-op one, and the metric names, which are public API. It records; it decides
 * nothing and never touches a connection.
 */
package io.tlsproxy.metrics;
