package io.tlsproxy.material;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/** A private key with its certificate chain, leaf first. */
public record KeyMaterial(PrivateKey key, List<X509Certificate> chain) {

  public X509Certificate leaf() {
    return chain.get(0);
  }

  public X509Certificate[] chainArray() {
    return chain.toArray(new X509Certificate[0]);
  }

  @Override
  public String toString() {
    return "KeyMaterial[" + leaf().getSubjectX500Principal() + "]";
  }
}
