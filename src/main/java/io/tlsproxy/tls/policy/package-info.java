/**
 * TLS policy: profiles (Mozilla's modern, intermediate, legacy) resolved into the protocols, cipher suites and
 * groups an engine actually supports, the choice of engine, and the few settings the JDK only has per process.
 * Validation and runtime use this one resolver, so they cannot drift.
 */
package io.tlsproxy.tls.policy;
