package io.tlsproxy.material;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Loads certificates, private keys and trust anchors from PEM or PKCS#12 files, and checks that what is loaded
 * can actually serve: the key matches the certificate and the certificate is within its validity period.
 * Every failure is a {@link MaterialException} whose message names the file.
 */
public final class MaterialLoader {

  private MaterialLoader() {
  }

  /** A PEM cert chain plus its PEM key (PKCS#8, PKCS#1 RSA, SEC1 EC; encrypted ones with a password). */
  public static KeyMaterial loadPem(Path certFile, Path keyFile, String password) throws MaterialException {
    List<X509Certificate> chain = readCertificates(certFile);
    PrivateKey key = readPrivateKey(keyFile, password);
    checkPair(key, chain.get(0), keyFile, certFile);
    return new KeyMaterial(key, chain);
  }

  /** The first key entry of a PKCS#12 keystore with its chain. */
  public static KeyMaterial loadPkcs12(Path file, String password) throws MaterialException {
    char[] pw = password == null ? new char[0] : password.toCharArray();
    KeyStore ks;
    try (InputStream in = open(file)) {
      ks = KeyStore.getInstance("PKCS12");
      ks.load(in, pw);
    } catch (IOException e) {
      if (e.getCause() instanceof java.security.UnrecoverableKeyException || String.valueOf(e.getMessage())
          .contains("password")) {
        throw new MaterialException("cannot open keystore " + file + ": wrong password; check password");
      }
      throw new MaterialException("cannot read keystore " + file + ": " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new MaterialException("cannot read keystore " + file + ": " + e.getMessage());
    }
    try {
      for (String alias : Collections.list(ks.aliases())) {
        if (!ks.isKeyEntry(alias)) {
          continue;
        }
        Key key = ks.getKey(alias, pw);
        Certificate[] certs = ks.getCertificateChain(alias);
        if (!(key instanceof PrivateKey pk) || certs == null || certs.length == 0) {
          continue;
        }
        List<X509Certificate> chain = new ArrayList<>();
        for (Certificate c : certs) {
          chain.add((X509Certificate) c);
        }
        checkPair(pk, chain.get(0), file, file);
        return new KeyMaterial(pk, List.copyOf(chain));
      }
    } catch (GeneralSecurityException e) {
      throw new MaterialException("cannot read the key in keystore " + file + ": " + e.getMessage());
    }
    throw new MaterialException("keystore " + file + " holds no private key with a certificate");
  }

  /** Every certificate in a PEM (or DER) file, in file order. */
  public static List<X509Certificate> readCertificates(Path file) throws MaterialException {
    try (InputStream in = open(file)) {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      List<X509Certificate> certs = new ArrayList<>();
      for (Certificate c : cf.generateCertificates(in)) {
        certs.add((X509Certificate) c);
      }
      if (certs.isEmpty()) {
        throw new MaterialException("no certificate found in " + file + "; expected PEM 'BEGIN CERTIFICATE'");
      }
      return List.copyOf(certs);
    } catch (CertificateException e) {
      throw new MaterialException("not a valid certificate file " + file + ": " + oneLine(e));
    } catch (IOException e) {
      throw new MaterialException("cannot read " + file + ": " + oneLine(e));
    }
  }

  /** A PEM private key in any of the common encodings. */
  public static PrivateKey readPrivateKey(Path file, String password) throws MaterialException {
    Object parsed;
    try (InputStream in = open(file);
         Reader reader = new java.io.InputStreamReader(in, StandardCharsets.US_ASCII);
         PEMParser parser = new PEMParser(reader)) {
      parsed = parser.readObject();
      while (parsed != null && !isKey(parsed)) {
        parsed = parser.readObject();
      }
    } catch (IOException | RuntimeException e) {
      // BouncyCastle reports malformed base64 or ASN.1 with unchecked exceptions.
      throw new MaterialException("cannot read private key " + file + ": " + oneLine(e));
    }
    if (parsed == null) {
      throw new MaterialException("no private key found in " + file
          + "; expected PEM 'BEGIN PRIVATE KEY', 'BEGIN RSA PRIVATE KEY' or 'BEGIN EC PRIVATE KEY'");
    }
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try {
      if (parsed instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      if (parsed instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (password == null) {
        throw new MaterialException("private key " + file + " is encrypted; set password");
      }
      if (parsed instanceof PEMEncryptedKeyPair enc) {
        return converter.getKeyPair(enc.decryptKeyPair(
            new JcePEMDecryptorProviderBuilder().build(password.toCharArray()))).getPrivate();
      }
      PKCS8EncryptedPrivateKeyInfo enc = (PKCS8EncryptedPrivateKeyInfo) parsed;
      return converter.getPrivateKey(enc.decryptPrivateKeyInfo(
          new JceOpenSSLPKCS8DecryptorProviderBuilder().build(password.toCharArray())));
    } catch (PKCSException | OperatorCreationException | IOException | RuntimeException e) {
      throw new MaterialException("cannot decrypt private key " + file + ": wrong password or unsupported "
          + "encryption");
    }
  }

  /** Trust anchors from CA certificates read from {@code source}. */
  public static TrustManagerFactory trust(List<X509Certificate> cas, Path source) throws MaterialException {
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      for (int i = 0; i < cas.size(); i++) {
        ks.setCertificateEntry("ca-" + i, cas.get(i));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      return tmf;
    } catch (GeneralSecurityException | IOException e) {
      throw new MaterialException("cannot use " + source + " as trust: " + oneLine(e));
    }
  }

  /** Fails unless {@code cert} is valid at {@code now}. */
  public static void checkValidity(X509Certificate cert, Path file, Instant now) throws MaterialException {
    try {
      cert.checkValidity(Date.from(now));
    } catch (CertificateExpiredException e) {
      throw new MaterialException("certificate in " + file + " expired on " + cert.getNotAfter().toInstant()
          + " (" + cert.getSubjectX500Principal() + "); renew it");
    } catch (CertificateNotYetValidException e) {
      throw new MaterialException("certificate in " + file + " is not valid before "
          + cert.getNotBefore().toInstant() + "; check the clock or the certificate");
    }
  }

  /** Proves the key belongs to the certificate by signing a random challenge and verifying it. */
  public static void checkPair(PrivateKey key, X509Certificate cert, Path keyFile, Path certFile)
      throws MaterialException {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      case "Ed448" -> "Ed448";
      case "DSA" -> "SHA256withDSA";
      default -> null;
    };
    if (algorithm == null) {
      throw new MaterialException("unsupported key type " + key.getAlgorithm() + " in " + keyFile);
    }
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] sig = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(challenge);
      if (verifier.verify(sig)) {
        return;
      }
    } catch (GeneralSecurityException e) {
      // A key of another type than the certificate's lands here too: it does not match.
    }
    throw new MaterialException("private key " + keyFile + " does not match the certificate in " + certFile
        + "; use the key the certificate was issued for");
  }

  private static boolean isKey(Object o) {
    return o instanceof PEMKeyPair || o instanceof PrivateKeyInfo || o instanceof PEMEncryptedKeyPair
        || o instanceof PKCS8EncryptedPrivateKeyInfo;
  }

  static InputStream open(Path file) throws MaterialException {
    try {
      return Files.newInputStream(file);
    } catch (NoSuchFileException e) {
      throw new MaterialException("file not found: " + file);
    } catch (AccessDeniedException e) {
      throw new MaterialException("file not readable: " + file + "; check its permissions");
    } catch (IOException e) {
      throw new MaterialException("cannot open " + file + ": " + oneLine(e));
    }
  }

  static String oneLine(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.replaceAll("\\s+", " ").trim();
  }
}
