/**
 * Configuration: immutable records, strict YAML loading, environment expansion and structural validation.
 * Every problem is reported with the key path that caused it. Nothing here opens sockets or reads certificate
 * files; the tls package checks the material the configuration names.
 */
package io.tlsproxy.config;
