/**
 * Peer-certificate allow-lists: which verified certificates may connect, by common name, DNS name, URI (SPIFFE
 * ID) or public-key pin. Pure functions over an already verified {@code X509Certificate[]}; they read no files,
 * open no sockets and fail closed: no certificate, or a rule set with no rule, admits nobody.
 */
package io.tlsproxy.auth;
