/**
 * Certificate material: reading PEM and PKCS#12 certificates, keys, CA bundles and revocation lists, checking
 * validity and key pairs, and Kubernetes-style secret directories. Files in, Java security objects out; it builds
 * no SSL context and knows no policy.
 */
package io.tlsproxy.material;
