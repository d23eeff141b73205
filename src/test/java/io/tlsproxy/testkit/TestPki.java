package io.tlsproxy.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Certificates minted for one test run: CAs, server and client certificates with chosen names and validity,
 * written as PEM (or PKCS#12) files into a folder of the test's own.
 */
public final class TestPki {

  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  private final Path dir;

  public TestPki(Path dir) {
    this.dir = dir;
  }

  public Path dir() {
    return dir;
  }

  /** A key and certificate, and the files they were written to. */
  public record Issued(String name, KeyPair keys, X509Certificate cert, List<X509Certificate> chain, Path certFile,
                       Path keyFile) {
    public PrivateKey key() {
      return keys.getPrivate();
    }
  }

  /** A self-signed CA. */
  public Issued ca(String name) {
    KeyPair kp = ecKey();
    X500Name subject = new X500Name("CN=" + name);
    X509Certificate cert = sign(subject, kp, subject, kp.getPrivate(), Instant.now().minus(Duration.ofDays(1)),
        Instant.now().plus(Duration.ofDays(30)), b -> {
          b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
          b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        });
    return write(name, kp, cert, List.of(cert));
  }

  /** A server certificate for {@code names} (DNS names, or IP addresses) valid now. */
  public Issued server(Issued ca, String name, String... names) {
    return leaf(ca, name, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)),
        KeyPurposeId.id_kp_serverAuth, names);
  }

  /** A server certificate that expired yesterday. */
  public Issued expiredServer(Issued ca, String name, String... names) {
    return leaf(ca, name, Instant.now().minus(Duration.ofDays(10)), Instant.now().minus(Duration.ofDays(1)),
        KeyPurposeId.id_kp_serverAuth, names);
  }

  /** A server certificate valid from yesterday for {@code validity}. */
  public Issued serverValidFor(Issued ca, Duration validity, String name, String... names) {
    return leaf(ca, name, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(validity),
        KeyPurposeId.id_kp_serverAuth, names);
  }

  /**
   * A client certificate with common name {@code cn} and subject alternative names {@code names}: URIs (anything
   * with "://", e.g. a SPIFFE ID), IP addresses or DNS names.
   */
  public Issued client(Issued ca, String cn, String... names) {
    return leaf(ca, cn, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)),
        KeyPurposeId.id_kp_clientAuth, names);
  }

  /** A CRL of {@code ca} revoking {@code revoked}, valid until {@code nextUpdate}, written as PEM or DER. */
  public Path crl(Issued ca, Instant nextUpdate, boolean pem, Issued... revoked) {
    try {
      X509v2CRLBuilder b = new X509v2CRLBuilder(
          X500Name.getInstance(ca.cert().getSubjectX500Principal().getEncoded()),
          Date.from(Instant.now().minus(Duration.ofHours(1))));
      b.setNextUpdate(Date.from(nextUpdate));
      for (Issued r : revoked) {
        b.addCRLEntry(r.cert().getSerialNumber(), Date.from(Instant.now().minus(Duration.ofMinutes(5))),
            CRLReason.keyCompromise);
      }
      X509CRL crl = new JcaX509CRLConverter().getCRL(
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.key())));
      Path file = dir.resolve(ca.name() + "-" + SERIAL.incrementAndGet() + (pem ? ".crl.pem" : ".crl"));
      if (pem) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
          w.writeObject(crl);
        }
        Files.writeString(file, out.toString());
      } else {
        Files.write(file, crl.getEncoded());
      }
      return file;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A PEM CRL of {@code ca} revoking {@code revoked}, valid for a week. */
  public Path crl(Issued ca, Issued... revoked) {
    return crl(ca, Instant.now().plus(Duration.ofDays(7)), true, revoked);
  }

  /**
   * Writes {@code issued} as a Kubernetes TLS Secret volume does: {@code tls.crt}, {@code tls.key} and (with
   * {@code ca}) {@code ca.crt} as symlinks through a {@code ..data} link to a timestamped folder.
   */
  public Path secretDir(String name, Issued issued, Issued ca) {
    try {
      Path dir = Files.createDirectories(this.dir.resolve(name));
      Path data = Files.createDirectories(dir.resolve("..2024_01_01_00_00_00." + SERIAL.incrementAndGet()));
      if (issued != null) {
        Files.copy(issued.certFile(), data.resolve("tls.crt"));
        Files.copy(issued.keyFile(), data.resolve("tls.key"));
      }
      if (ca != null) {
        Files.copy(ca.certFile(), data.resolve("ca.crt"));
      }
      Files.createSymbolicLink(dir.resolve("..data"), data.getFileName());
      try (var files = Files.list(data)) {
        for (Path f : files.toList()) {
          Files.createSymbolicLink(dir.resolve(f.getFileName()), Path.of("..data").resolve(f.getFileName()));
        }
      }
      return dir;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private Issued leaf(Issued ca, String cn, Instant from, Instant to, KeyPurposeId purpose, String[] names) {
    KeyPair kp = ecKey();
    X500Name subject = new X500Name("CN=" + cn);
    X500Name issuer = X500Name.getInstance(ca.cert().getSubjectX500Principal().getEncoded());
    X509Certificate cert = sign(subject, kp, issuer, ca.key(), from, to, b -> {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      if (names.length > 0) {
        List<GeneralName> gns = new ArrayList<>();
        for (String n : names) {
          boolean uri = n.contains("://");
          boolean ip = !uri && (n.matches("[0-9.]+") || n.contains(":"));
          gns.add(new GeneralName(uri ? GeneralName.uniformResourceIdentifier
              : ip ? GeneralName.iPAddress : GeneralName.dNSName, n));
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(gns.toArray(new GeneralName[0])));
      }
    });
    List<X509Certificate> chain = List.of(cert, ca.cert());
    return write(cn + "-" + SERIAL.incrementAndGet(), kp, cert, chain);
  }

  /** Writes {@code issued} as a PKCS#12 keystore protected by {@code password}. */
  public Path pkcs12(Issued issued, String password) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("key", issued.key(), password.toCharArray(),
          issued.chain().toArray(new X509Certificate[0]));
      Path file = dir.resolve(issued.name() + ".p12");
      try (OutputStream out = Files.newOutputStream(file)) {
        ks.store(out, password.toCharArray());
      }
      return file;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A client-side context trusting {@code ca} (or nothing when null), presenting {@code client} if given. */
  public static SSLContext clientContext(Issued ca, Issued client) {
    return context(ca, client, false);
  }

  /**
   * Like {@link #clientContext} but presenting {@code client} to every server that asks. The JDK's own key
   * manager presents only a certificate issued by one of the CAs the server lists in its request, and none at
   * all otherwise; a test of a server refusing a certificate from the wrong CA needs it sent anyway.
   */
  public static SSLContext clientContextPresentingAnyway(Issued ca, Issued client) {
    return context(ca, client, true);
  }

  /**
   * Like {@link #clientContextPresentingAnyway} ({@code client} may be null: nothing is presented), and every
   * certificate request the server sends is added to {@code requests} as the CA names it lists (empty when it
   * lists none): a server that does not ask leaves {@code requests} as it was.
   */
  public static SSLContext clientContextRecordingRequests(Issued ca, Issued client, List<List<String>> requests) {
    try {
      X509ExtendedKeyManager delegate = client == null ? null
          : new AnyIssuerKeyManager((X509ExtendedKeyManager) keyManagers(client).getKeyManagers()[0]);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca.cert());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(new KeyManager[] {new RecordingKeyManager(delegate, requests)}, tmf.getTrustManagers(),
          new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static SSLContext context(Issued ca, Issued client, boolean ignoreRequestedIssuers) {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      if (ca != null) {
        trust.setCertificateEntry("ca", ca.cert());
      }
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (client != null) {
        kmf = keyManagers(client);
      }
      KeyManager[] keyManagers = kmf == null ? null : kmf.getKeyManagers();
      if (keyManagers != null && ignoreRequestedIssuers) {
        keyManagers = new KeyManager[] {new AnyIssuerKeyManager((X509ExtendedKeyManager) keyManagers[0])};
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(keyManagers, tmf.getTrustManagers(), new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A server-side context presenting {@code server}, requiring clients from {@code clientCa} when given. */
  public static SSLContext serverContext(Issued server, Issued clientCa) {
    return clientContext(clientCa, server);
  }

  /** Offers its one key entry whatever issuers the server asks for. */
  private static final class AnyIssuerKeyManager extends X509ExtendedKeyManager {
    private final X509ExtendedKeyManager delegate;

    AnyIssuerKeyManager(X509ExtendedKeyManager delegate) {
      this.delegate = delegate;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
      return delegate.chooseClientAlias(keyTypes, null, socket);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
      return delegate.chooseEngineClientAlias(keyTypes, null, engine);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return delegate.getClientAliases(keyType, null);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return delegate.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return delegate.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return delegate.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return delegate.getPrivateKey(alias);
    }
  }

  /** Records the CA names of each certificate request, then answers as its delegate does (or with nothing). */
  private static final class RecordingKeyManager extends X509ExtendedKeyManager {
    private final X509ExtendedKeyManager delegate;
    private final List<List<String>> requests;

    RecordingKeyManager(X509ExtendedKeyManager delegate, List<List<String>> requests) {
      this.delegate = delegate;
      this.requests = requests;
    }

    private void record(Principal[] issuers) {
      List<String> names = new ArrayList<>();
      if (issuers != null) {
        for (Principal p : issuers) {
          names.add(p.getName());
        }
      }
      requests.add(List.copyOf(names));
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
      record(issuers);
      return delegate == null ? null : delegate.chooseClientAlias(keyTypes, issuers, socket);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
      record(issuers);
      return delegate == null ? null : delegate.chooseEngineClientAlias(keyTypes, issuers, engine);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return delegate == null ? null : delegate.getClientAliases(keyType, issuers);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return delegate == null ? null : delegate.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return delegate == null ? null : delegate.getPrivateKey(alias);
    }
  }

  private static KeyManagerFactory keyManagers(Issued issued) throws GeneralSecurityException, IOException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("key", issued.key(), new char[0], issued.chain().toArray(new X509Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    return kmf;
  }

  private interface Extensions {
    void add(X509v3CertificateBuilder b) throws IOException;
  }

  private static X509Certificate sign(X500Name subject, KeyPair kp, X500Name issuer, PrivateKey issuerKey,
                                      Instant from, Instant to, Extensions ext) {
    try {
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
          BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(from), Date.from(to), subject, kp.getPublic());
      b.addExtension(Extension.subjectKeyIdentifier, false,
          new JcaX509ExtensionUtils().createSubjectKeyIdentifier(kp.getPublic()));
      ext.add(b);
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair ecKey() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private Issued write(String name, KeyPair kp, X509Certificate cert, List<X509Certificate> chain) {
    try {
      Path certFile = dir.resolve(name + ".pem");
      Path keyFile = dir.resolve(name + "-key.pem");
      StringWriter certs = new StringWriter();
      try (JcaPEMWriter w = new JcaPEMWriter(certs)) {
        for (X509Certificate c : chain) {
          if (!c.equals(chain.get(0)) && c.getSubjectX500Principal().equals(c.getIssuerX500Principal())
              && chain.size() > 1) {
            continue; // a leaf file carries its chain without the self-signed root
          }
          w.writeObject(c);
        }
      }
      Files.writeString(certFile, certs.toString());
      StringWriter key = new StringWriter();
      try (JcaPEMWriter w = new JcaPEMWriter(key)) {
        // PKCS#8 ("BEGIN PRIVATE KEY"), the most common form.
        PemObject pkcs8 = new PemObject("PRIVATE KEY", kp.getPrivate().getEncoded());
        w.writeObject(pkcs8);
      }
      Files.writeString(keyFile, key.toString());
      return new Issued(name, kp, cert, chain, certFile, keyFile);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes {@code key} in the SEC1 "BEGIN EC PRIVATE KEY" form that openssl ecparam produces. */
  public Path sec1Key(Issued issued) {
    try {
      Path file = dir.resolve(issued.name() + "-sec1.pem");
      StringWriter out = new StringWriter();
      try (JcaPEMWriter w = new JcaPEMWriter(out)) {
        w.writeObject(new JcaMiscPEMGenerator(issued.keys()));
      }
      Files.writeString(file, out.toString());
      return file;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
