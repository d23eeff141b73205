package io.tlsproxy.auth;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;

/** The names a certificate carries: subject common names, DNS SANs and URI SANs. */
public final class Identities {

  private static final int SAN_DNS = 2;
  private static final int SAN_URI = 6;

  private Identities() {
  }

  /** Every CN attribute of the subject, in order (usually one). */
  public static List<String> commonNames(X509Certificate cert) {
    List<String> out = new ArrayList<>();
    X500Name name = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
    for (RDN rdn : name.getRDNs(BCStyle.CN)) {
      for (AttributeTypeAndValue atv : rdn.getTypesAndValues()) {
        if (atv.getType().equals(BCStyle.CN) && atv.getValue() instanceof ASN1String s) {
          out.add(s.getString());
        }
      }
    }
    return out;
  }

  public static List<String> dnsNames(X509Certificate cert) {
    return sans(cert, SAN_DNS);
  }

  public static List<String> uris(X509Certificate cert) {
    return sans(cert, SAN_URI);
  }

  private static List<String> sans(X509Certificate cert, int type) {
    List<String> out = new ArrayList<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (Integer.valueOf(type).equals(san.get(0)) && san.get(1) instanceof String s) {
            out.add(s);
          }
        }
      }
    } catch (CertificateParsingException e) {
      // Unparsable SANs carry no name: such a certificate matches no name rule (fails closed).
    }
    return out;
  }
}
