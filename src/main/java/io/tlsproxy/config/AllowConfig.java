package io.tlsproxy.config;

import java.util.List;

/**
 * Which verified client certificates a listener admits ({@code tls.allow}); any one match admits. Present but
 * without any rule, it admits nobody. Patterns are checked by the auth package when the listener is built.
 *
 * @param commonNames exact subject CNs
 * @param dnsNames    DNS SANs; {@code *.} as the leftmost label matches exactly one label
 * @param uris        URI SANs such as SPIFFE IDs; {@code *} is one path segment, {@code **} one or more
 * @param spkiSha256  base64 SHA-256 of the leaf's SubjectPublicKeyInfo
 * @param path        the key path of the {@code allow} mapping, for messages
 */
public record AllowConfig(List<String> commonNames, List<String> dnsNames, List<String> uris,
                          List<String> spkiSha256, String path) {
}
