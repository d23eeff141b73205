package io.tlsproxy.tls.peer;

import io.netty.handler.ssl.util.SimpleTrustManagerFactory;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A trust manager that runs further checks (revocation, allow-lists, pins) on a peer chain after the usual PKIX
 * and host name verification passed. Throwing from here aborts the handshake itself, so a refused peer never
 * gets a connection: no byte is relayed either way.
 */
final class PeerTrustManager extends X509ExtendedTrustManager {

  /** One check over a verified chain, leaf first. */
  interface ChainCheck {
    void check(X509Certificate[] chain) throws CertificateException;
  }

  private final X509ExtendedTrustManager delegate;
  private final List<ChainCheck> checks;

  private PeerTrustManager(X509ExtendedTrustManager delegate, List<ChainCheck> checks) {
    this.delegate = delegate;
    this.checks = List.copyOf(checks);
  }

  /** {@code trust} itself when there is nothing to add, else a factory of the checking trust manager. */
  static TrustManagerFactory wrap(TrustManagerFactory trust, List<ChainCheck> checks) {
    if (checks.isEmpty()) {
      return trust;
    }
    X509ExtendedTrustManager delegate = null;
    for (TrustManager tm : trust.getTrustManagers()) {
      if (tm instanceof X509ExtendedTrustManager x) {
        delegate = x;
      }
    }
    if (delegate == null) {
      throw new IllegalStateException("the JDK's PKIX trust manager factory gave no X509ExtendedTrustManager");
    }
    PeerTrustManager tm = new PeerTrustManager(delegate, checks);
    return new SimpleTrustManagerFactory() {
      @Override
      protected void engineInit(KeyStore keyStore) {
      }

      @Override
      protected void engineInit(ManagerFactoryParameters params) {
      }

      @Override
      protected TrustManager[] engineGetTrustManagers() {
        return new TrustManager[] {tm};
      }
    };
  }

  private void after(X509Certificate[] chain) throws CertificateException {
    for (ChainCheck c : checks) {
      c.check(chain);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType, engine);
    after(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType, engine);
    after(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType, socket);
    after(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType, socket);
    after(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    delegate.checkClientTrusted(chain, authType);
    after(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    delegate.checkServerTrusted(chain, authType);
    after(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
  }
}
