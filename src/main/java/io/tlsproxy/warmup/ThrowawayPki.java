package io.tlsproxy.warmup;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A CA and two leaves (a server for {@link #SERVER_NAME}, a client) minted for one warm-up, written as PEM files
 * into a private directory that {@link #delete()} removes. P-256 keys: generated in a few milliseconds, and
 * accepted by both engines' default policies.
 */
final class ThrowawayPki {

  /** Under {@code .invalid} (RFC 2606): a name that can never be a real upstream's. */
  static final String SERVER_NAME = "warmup.tlsproxy.invalid";

  private final Path dir;
  private final Path ca;
  private final Pem server;
  private final Pem client;

  /** A certificate and its key, as PEM text and as the files the proxy's configuration points at. */
  record Pem(String cert, String key, Path certFile, Path keyFile) {
  }

  private ThrowawayPki(Path dir, Path ca, Pem server, Pem client) {
    this.dir = dir;
    this.ca = ca;
    this.server = server;
    this.client = client;
  }

  static ThrowawayPki mint() throws IOException, GeneralSecurityException {
    Path dir = Files.createTempDirectory("tlsproxy-warmup-");
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair caKeys = gen.generateKeyPair();
      X500Name caName = new X500Name("CN=tlsproxy warm-up CA");
      X509v3CertificateBuilder caCert = builder(caName, caName, caKeys, 1);
      caCert.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      caCert.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign));
      String caPem = pem("CERTIFICATE", sign(caCert, caKeys.getPrivate()));
      Path ca = Files.writeString(dir.resolve("ca.pem"), caPem);
      Pem server = leaf(dir, "server", gen.generateKeyPair(), caName, caKeys.getPrivate(), 2,
          KeyPurposeId.id_kp_serverAuth);
      Pem client = leaf(dir, "client", gen.generateKeyPair(), caName, caKeys.getPrivate(), 3,
          KeyPurposeId.id_kp_clientAuth);
      return new ThrowawayPki(dir, ca, server, client);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      deleteTree(dir);
      throw e;
    }
  }

  Path ca() {
    return ca;
  }

  Pem server() {
    return server;
  }

  Pem client() {
    return client;
  }

  void delete() {
    deleteTree(dir);
  }

  private static Pem leaf(Path dir, String name, KeyPair keys, X500Name issuer, PrivateKey issuerKey, long serial,
                          KeyPurposeId purpose) throws IOException, GeneralSecurityException {
    X509v3CertificateBuilder b = builder(issuer, new X500Name("CN=tlsproxy warm-up " + name), keys, serial);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
    b.addExtension(Extension.subjectAlternativeName, false,
        new GeneralNames(new GeneralName(GeneralName.dNSName, SERVER_NAME)));
    String cert = pem("CERTIFICATE", sign(b, issuerKey));
    String key = pem("PRIVATE KEY", keys.getPrivate().getEncoded());
    Path certFile = Files.writeString(dir.resolve(name + ".pem"), cert);
    Path keyFile = Files.writeString(dir.resolve(name + "-key.pem"), key);
    return new Pem(cert, key, certFile, keyFile);
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys, long serial) {
    // Valid from an hour ago, so that a clock a little behind does not reject it; it is used for seconds.
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(serial),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject,
        keys.getPublic());
  }

  private static byte[] sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
    try {
      return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)).getEncoded();
    } catch (OperatorCreationException | IOException e) {
      throw new GeneralSecurityException("cannot sign the warm-up certificate: " + e.getMessage(), e);
    }
  }

  private static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  private static void deleteTree(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a temporary directory: the system cleans it up if we cannot
    }
  }
}
