package io.tlsproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.ssl.OpenSsl;
import io.tlsproxy.tls.engine.TlsHalfClose;
import io.tlsproxy.tls.policy.PolicyResolver;
import io.tlsproxy.tls.policy.TlsPolicy;
import org.junit.jupiter.api.Test;

/**
 * The OpenSSL engine is the default only while it can be kept writing after a peer's close_notify. A Netty
 * upgrade that renames the engine's flag fails here first (the end-to-end half-close tests fail too).
 */
class TlsHalfCloseTest {

  @Test
  void thisNettyLetsTheOpensslEngineCarryHalfClose() {
    assertTrue(OpenSsl.isAvailable(), "BoringSSL loads on this platform: " + OpenSsl.unavailabilityCause());
    assertTrue(TlsHalfClose.SUPPORTED, "ReferenceCountedOpenSslEngine#receivedShutdown is gone: see TlsHalfClose");
  }

  @Test
  void opensslIsTheDefaultEngineUnlessOverridden() {
    if (System.getProperty("tlsproxy.defaultEngine") == null) {
      assertNull(PolicyResolver.defaultEngineFallback());
      assertEquals(TlsPolicy.OPENSSL, PolicyResolver.defaultEngine());
    } else {
      assertEquals(System.getProperty("tlsproxy.defaultEngine"), PolicyResolver.defaultEngine());
    }
  }
}
