package io.tlsproxy.tls.peer;

import io.tlsproxy.auth.AllowList;
import io.tlsproxy.config.ClientPolicyConfig;
import io.tlsproxy.config.ClientTlsConfig;
import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.ServerTlsConfig;
import io.tlsproxy.material.RevocationList;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.TrustManagerFactory;

/**
 * What a peer must pass beyond chain and host name verification: a CRL, a client allow-list, upstream SANs and
 * key pins. Each side gets its trust wrapped only when one of these is configured.
 */
public final class PeerVerification {

  private PeerVerification() {
  }

  /**
   * A client policy's trust with its CRL and allow-list applied, and the CRLs it applies (empty without a
   * {@code crl}), for reports.
   */
  public record Clients(TrustManagerFactory trust, List<X509CRL> crls) {
  }

  /** The trust for a listener's or a route's client certificates, with its CRL and allow-list applied. */
  public static Clients clients(ClientPolicyConfig config, List<X509Certificate> cas, TrustManagerFactory trust,
                                Instant now, ConfigProblems problems, List<String> warnings) {
    String path = config.path();
    List<PeerTrustManager.ChainCheck> checks = new ArrayList<>();
    List<X509CRL> crls = List.of();
    if (config.crl() != null) {
      RevocationList crl = RevocationList.load(config.crl(), cas, path + ".crl", config.caKey(), now, problems,
          warnings);
      if (crl != null) {
        checks.add(crl::check);
        crls = crl.crls();
      }
    }
    if (config.allow() != null) {
      AllowList allow = PeerRules.clients(config.allow(), problems);
      if (allow != null) {
        checks.add(chain -> allow.require(chain, AllowList.CLIENT_NOT_ALLOWED));
      }
    }
    return new Clients(PeerTrustManager.wrap(trust, checks), crls);
  }

  /**
   * The trust for an upstream's certificate with its CRL, SANs and pins applied; {@code trust} null means the
   * JVM's trust store, and stays null when nothing is added.
   */
  public static TrustManagerFactory upstream(ClientTlsConfig config, List<X509Certificate> cas,
                                            TrustManagerFactory trust, Instant now, ConfigProblems problems,
                                            List<String> warnings) {
    if (config.insecureSkipVerify()) {
      return trust;
    }
    List<PeerTrustManager.ChainCheck> checks = new ArrayList<>();
    if (config.crl() != null) {
      RevocationList crl = RevocationList.load(config.crl(), cas, config.path() + ".crl", caKey(config), now,
          problems, warnings);
      if (crl != null) {
        checks.add(crl::check);
      }
    }
    checks.addAll(PeerRules.upstream(config, problems));
    if (checks.isEmpty()) {
      return trust;
    }
    return PeerTrustManager.wrap(trust != null ? trust : jvmDefault(), checks);
  }

  /** The key clientCa was given by, for messages. */
  public static String caKey(ServerTlsConfig c) {
    return c.clientPolicy().caKey();
  }

  /** The key the upstream's CA was given by, for messages. */
  public static String caKey(ClientTlsConfig c) {
    boolean fromSecret = c.secretDir() != null && c.ca() != null
        && c.ca().equals(c.secretDir().resolve(io.tlsproxy.config.SecretDir.CA));
    return c.path() + (fromSecret ? ".secretDir" : ".ca");
  }

  private static TrustManagerFactory jvmDefault() {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init((KeyStore) null);
      return tmf;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JVM's default trust store cannot be loaded", e);
    }
  }
}
