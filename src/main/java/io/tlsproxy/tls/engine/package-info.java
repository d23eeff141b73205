/**
 * What the two TLS engines (OpenSSL/BoringSSL through netty-tcnative, and the JDK's) expose and hide: the key
 * exchange group and resumption of a session, the OpenSSL engine's half-close after a peer's close_notify, and
 * its key log callback (the session secrets the JDK engine keeps to itself).
 * The only code that depends on an engine's internals; each use is guarded and tested.
 */
package io.tlsproxy.tls.engine;
