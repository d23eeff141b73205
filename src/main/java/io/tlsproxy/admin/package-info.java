/**
 * The admin HTTP endpoint: {@code /metrics}, {@code /healthz}, {@code /readyz}, {@code /certs} and
 * {@code POST /quitquitquit}. It reads the proxy's state and never changes it; a request to quit is handed to
 * the callback its owner gave it.
 */
package io.tlsproxy.admin;
