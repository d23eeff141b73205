/**
 * The TLS lifecycle: from a listener's configuration ({@link io.tlsproxy.tls.TlsSections}) to its built TLS
 * ({@link io.tlsproxy.tls.ListenerTls}: server side, each upstream's client side, warnings, files read) with the
 * same code at start, for {@code --check} and at every reload ({@link io.tlsproxy.tls.CertificateReloader}), the
 * SSL contexts and SNI selection, and the mapping of handshake failures to reasons. Policy, peer
 * verification and engine details live in its sub-packages; certificate files are read by the material package.
 * It opens no sockets.
 */
package io.tlsproxy.tls;
