package io.tlsproxy.material;

import io.tlsproxy.config.ConfigProblems;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CRL;
import java.security.cert.CRLReason;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateRevokedException;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * Certificates revoked by the CRLs of one file, checked against a chain that the trust manager has already
 * verified. Each CRL's signature is checked once, at load, against the configured CA that issued it.
 *
 * <p>Why not the JDK's PKIX revocation checking (CertStore + PKIXBuilderParameters): it wants revocation status
 * for every non-anchor certificate of the path or, with SOFT_FAIL, silently accepts when it has none; it ignores
 * a CRL whose nextUpdate has passed, so a late CRL refresh would re-admit revoked certificates; and CRL download
 * and OCSP are process-wide switches. Here the rule is one sentence: a certificate of the chain listed in a
 * configured CRL of its issuer is refused. A stale CRL still applies (a revocation never expires) and is
 * warned about.
 */
public final class RevocationList {

  private final List<X509CRL> crls;

  private RevocationList(List<X509CRL> crls) {
    this.crls = List.copyOf(crls);
  }

  /**
   * The CRLs of {@code file}, each issued by one of {@code cas}; null with the reasons in {@code problems}.
   * A CRL past its nextUpdate is added to {@code warnings}.
   */
  public static RevocationList load(Path file, List<X509Certificate> cas, String keyPath, String casKey, Instant now,
                             ConfigProblems problems, List<String> warnings) {
    List<X509CRL> crls = new ArrayList<>();
    try (InputStream in = MaterialLoader.open(file)) {
      // generateCRLs reads PEM ("BEGIN X509 CRL") and DER alike.
      for (CRL crl : CertificateFactory.getInstance("X.509").generateCRLs(in)) {
        crls.add((X509CRL) crl);
      }
    } catch (MaterialException e) {
      problems.add(keyPath, e.getMessage());
      return null;
    } catch (GeneralSecurityException | IOException e) {
      problems.add(keyPath, "not a valid CRL file " + file + ": " + MaterialLoader.oneLine(e)
          + "; expected PEM 'BEGIN X509 CRL' or DER");
      return null;
    }
    if (crls.isEmpty()) {
      problems.add(keyPath, "no CRL found in " + file + "; expected PEM 'BEGIN X509 CRL' or DER");
      return null;
    }
    int before = problems.size();
    for (X509CRL crl : crls) {
      X509Certificate issuer = cas.stream()
          .filter(ca -> ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal()))
          .filter(ca -> verifies(crl, ca))
          .findFirst().orElse(null);
      if (issuer == null) {
        problems.add(keyPath, "the CRL in " + file + " from " + crl.getIssuerX500Principal().getName()
            + " is not signed by any CA in " + casKey + "; use the CRL of a CA listed there (or add that CA)");
      } else if (crl.getNextUpdate() != null && crl.getNextUpdate().toInstant().isBefore(now)) {
        warnings.add(keyPath + ": the CRL in " + file + " from " + crl.getIssuerX500Principal().getName()
            + " was due to be replaced at " + crl.getNextUpdate().toInstant() + " (nextUpdate); its revocations "
            + "still apply, but newer ones are unknown: fetch a fresh CRL");
      }
    }
    return problems.size() > before ? null : new RevocationList(crls);
  }

  private static boolean verifies(X509CRL crl, X509Certificate ca) {
    try {
      crl.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** The CRLs in use, for reports. */
  public List<X509CRL> crls() {
    return crls;
  }

  /** Fails when a certificate of {@code chain} is listed by a CRL of its issuer. */
  public void check(X509Certificate[] chain) throws CertificateRevokedException {
    if (chain == null) {
      return;
    }
    for (X509Certificate cert : chain) {
      for (X509CRL crl : crls) {
        if (!crl.getIssuerX500Principal().equals(cert.getIssuerX500Principal())) {
          continue;
        }
        X509CRLEntry entry = crl.getRevokedCertificate(cert);
        if (entry != null) {
          CRLReason reason = entry.getRevocationReason() == null ? CRLReason.UNSPECIFIED
              : entry.getRevocationReason();
          Date when = entry.getRevocationDate();
          throw new CertificateRevokedException(when, reason, crl.getIssuerX500Principal(), Map.of());
        }
      }
    }
  }
}
