package io.tlsproxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** DNS patterns: exact names case-insensitively, {@code *.} matching exactly one leftmost label. */
class DnsPatternTest {

  @ParameterizedTest(name = "{0} vs {1} -> {2}")
  @CsvSource({
      "billing.svc.cluster.local,    billing.svc.cluster.local,    true",
      "billing.svc.cluster.local,    BILLING.svc.cluster.local.,   true",
      "billing.svc.cluster.local,    billing2.svc.cluster.local,   false",
      "*.svc.cluster.local,          billing.svc.cluster.local,    true",
      "*.svc.cluster.local,          a.billing.svc.cluster.local,  false",
      "*.svc.cluster.local,          svc.cluster.local,            false",
      "*.svc.cluster.local,          billing.svc.cluster.localx,   false",
      "*.svc.cluster.local,          billing.evilsvc.cluster.local, false"})
  void matchesByLabel(String pattern, String name, boolean expected) {
    assertEquals(expected, DnsPattern.parse(pattern).matches(name));
  }

  @ParameterizedTest(name = "[{0}] {1}")
  @CsvSource(delimiter = '|', value = {
      "a.*.example.com   | whole leftmost label",
      "bill*.example.com | must be a whole label",
      "*.com             | at least two labels",
      "bad..example.com  | is not a DNS name",
      "''                | is empty"})
  void badPatternIsRefusedWithAReason(String pattern, String reason) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DnsPattern.parse(pattern));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
  }
}
