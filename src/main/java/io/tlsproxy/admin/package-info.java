/**
 * The admin HTTP endpoint: {@code /metrics}, {@code /healthz}, {@code /readyz} and {@code /certs}. It reads the
 * proxy's state and never changes it.
 */
package io.tlsproxy.admin;
