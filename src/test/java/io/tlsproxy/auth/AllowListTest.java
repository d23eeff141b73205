package io.tlsproxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.TestPki;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Allow-lists over real certificates: any one rule admits, nothing admits by default, refusals name the rules. */
class AllowListTest {

  @TempDir
  static Path dir;
  static TestPki pki;
  static TestPki.Issued ca;

  @BeforeAll
  static void mint() {
    pki = new TestPki(dir);
    ca = pki.ca("allow-ca");
  }

  static X509Certificate[] chain(TestPki.Issued issued) {
    return issued.chain().toArray(new X509Certificate[0]);
  }

  static AllowList allow(List<String> cns, List<String> dns, List<String> uris, List<String> pins) {
    return AllowList.clients("allow", cns,
        dns.stream().map(DnsPattern::parse).toList(),
        uris.stream().map(UriPattern::parse).toList(),
        pins.stream().map(SpkiPin::parse).toList());
  }

  @Test
  void commonNameAdmitsExactlyThatName() {
    AllowList a = allow(List.of("billing"), List.of(), List.of(), List.of());
    assertTrue(a.check(chain(pki.client(ca, "billing"))).allowed());
    assertFalse(a.check(chain(pki.client(ca, "Billing"))).allowed());
    assertFalse(a.check(chain(pki.client(ca, "billing2"))).allowed());
  }

  @Test
  void dnsNameRuleLooksAtSansNotTheCommonName() {
    AllowList a = allow(List.of(), List.of("*.svc.cluster.local"), List.of(), List.of());
    assertTrue(a.check(chain(pki.client(ca, "x", "billing.svc.cluster.local"))).allowed());
    assertFalse(a.check(chain(pki.client(ca, "billing.svc.cluster.local"))).allowed());
    assertFalse(a.check(chain(pki.client(ca, "x", "a.billing.svc.cluster.local"))).allowed());
  }

  @Test
  void uriRuleMatchesAnyUriSan() {
    AllowList a = allow(List.of(), List.of(), List.of("spiffe://prod.example/ns/billing/*"), List.of());
    assertTrue(a.check(chain(pki.client(ca, "x", "spiffe://other/x", "spiffe://prod.example/ns/billing/api")))
        .allowed());
    assertFalse(a.check(chain(pki.client(ca, "x", "spiffe://prod.example/ns/billing/sa/api"))).allowed());
  }

  @Test
  void keyPinAdmitsThatKeyOnly() {
    TestPki.Issued pinned = pki.client(ca, "pinned");
    AllowList a = allow(List.of(), List.of(), List.of(), List.of(SpkiPin.of(pinned.cert())));
    assertTrue(a.check(chain(pinned)).allowed());
    assertFalse(a.check(chain(pki.client(ca, "pinned"))).allowed(), "same name, other key");
  }

  @Test
  void anyOneRuleAdmits() {
    AllowList a = allow(List.of("billing"), List.of("*.svc.cluster.local"), List.of(), List.of());
    assertTrue(a.check(chain(pki.client(ca, "billing"))).allowed());
    assertTrue(a.check(chain(pki.client(ca, "other", "x.svc.cluster.local"))).allowed());
  }

  @Test
  void refusalNamesThePeerAndEveryRuleSetItFailed() {
    AllowList a = allow(List.of("billing"), List.of(), List.of("spiffe://prod.example/**"), List.of());
    AllowList.Verdict v = a.check(chain(pki.client(ca, "mallory")));
    assertFalse(v.allowed());
    assertEquals("CN=mallory: matched none of allow.commonNames, allow.uris", v.detail());
    PeerNotAllowedException e = assertThrows(PeerNotAllowedException.class,
        () -> a.require(chain(pki.client(ca, "mallory")), AllowList.CLIENT_NOT_ALLOWED));
    assertEquals("client_not_allowed", e.category());
    assertTrue(e.getMessage().startsWith("client_not_allowed: CN=mallory"), e.getMessage());
  }

  @Test
  void emptyListAdmitsNobody() {
    AllowList a = allow(List.of(), List.of(), List.of(), List.of());
    AllowList.Verdict v = a.check(chain(pki.client(ca, "anyone")));
    assertFalse(v.allowed());
    assertTrue(v.detail().contains("allow is empty and admits nobody"), v.detail());
  }

  @Test
  void noCertificateIsRefused() {
    AllowList a = allow(List.of("billing"), List.of(), List.of(), List.of());
    assertFalse(a.check(null).allowed());
    assertFalse(a.check(new X509Certificate[0]).allowed());
  }

  @Test
  void badPinIsRefusedWithTheWayToComputeIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpkiPin.parse("abc"));
    assertTrue(e.getMessage().contains("not the base64 of a SHA-256"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SpkiPin.parse("AAAA"));
  }
}
