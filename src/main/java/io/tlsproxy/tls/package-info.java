/**
 * TLS material and policy: loads certificates and keys (PEM or PKCS#12), resolves policy profiles into
 * protocol, suite and group lists, and builds the SSL contexts both sides of a connection use. It opens no
 * sockets and records no metrics; it only answers "which context, with what settings".
 */
package io.tlsproxy.tls;
