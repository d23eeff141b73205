package io.tlsproxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** SPIFFE ID patterns are exact about path segments: {@code *} is one segment, {@code **} one or more. */
class UriPatternTest {

  @ParameterizedTest(name = "{0} vs {1} -> {2}")
  @CsvSource({
      "spiffe://prod.example/ns/billing/sa/api,  spiffe://prod.example/ns/billing/sa/api,   true",
      "spiffe://prod.example/ns/billing/sa/api,  spiffe://prod.example/ns/billing/sa/api2,  false",
      "spiffe://prod.example/ns/billing/sa/api,  spiffe://prod.example/ns/billing/sa,       false",
      "spiffe://prod.example/ns/billing/sa/api,  SPIFFE://PROD.EXAMPLE/ns/billing/sa/api,   true",
      "spiffe://prod.example/ns/billing/sa/api,  spiffe://prod.example/ns/Billing/sa/api,   false",
      "spiffe://prod.example/ns/billing/*,       spiffe://prod.example/ns/billing/api,      true",
      "spiffe://prod.example/ns/billing/*,       spiffe://prod.example/ns/billing/sa/api,   false",
      "spiffe://prod.example/ns/billing/*,       spiffe://prod.example/ns/billing,          false",
      "spiffe://prod.example/ns/billing/*,       spiffe://prod.example/ns/billing/,         false",
      "spiffe://prod.example/ns/*/sa/api,        spiffe://prod.example/ns/billing/sa/api,   true",
      "spiffe://prod.example/ns/*/sa/api,        spiffe://prod.example/ns/a/b/sa/api,       false",
      "spiffe://prod.example/ns/billing/**,      spiffe://prod.example/ns/billing/api,      true",
      "spiffe://prod.example/ns/billing/**,      spiffe://prod.example/ns/billing/sa/api,   true",
      "spiffe://prod.example/ns/billing/**,      spiffe://prod.example/ns/billing,          false",
      "spiffe://prod.example/ns/billing/**,      spiffe://prod.example/ns/billingx/api,     false",
      "spiffe://prod.example/ns/**/sa/api,       spiffe://prod.example/ns/a/b/sa/api,       true",
      "spiffe://prod.example/ns/**/sa/api,       spiffe://prod.example/ns/sa/api,           false",
      "spiffe://prod.example/ns/billing/*,       spiffe://other.example/ns/billing/api,     false",
      "spiffe://prod.example/ns/billing/*,       spiffe://prod.example.evil/ns/billing/api, false",
      "spiffe://prod.example/ns/billing/*,       https://prod.example/ns/billing/api,       false",
      "spiffe://prod.example/ns/billing/**,      spiffe://prod.example/ns/billing//api,     false",
      "spiffe://prod.example/ns/billing/*,       spiffe://prod.example/ns/billing/api?x=1,  false",
      "spiffe://prod.example,                    spiffe://prod.example,                     true",
      "spiffe://prod.example,                    spiffe://prod.example/api,                 false"})
  void matchesExactlyBySegment(String pattern, String uri, boolean expected) {
    assertEquals(expected, UriPattern.parse(pattern).matches(uri));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "spiffe://prod.example/ns/bill*     | mixes * with text",
      "spiffe://*.example/ns/billing      | not in the scheme or trust domain",
      "spiffe://prod.example/ns//billing  | empty path segment",
      "spiffe://prod.example/ns/billing/  | empty path segment",
      "spiffe://prod.example/ns?x=1       | query or fragment",
      "billing                            | not a URI"})
  void badPatternIsRefusedWithAReason(String pattern, String reason) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UriPattern.parse(pattern));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
  }
}
