package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tlsproxy.testkit.Await;
import io.tlsproxy.testkit.Clients;
import io.tlsproxy.testkit.ExternalProcess;
import io.tlsproxy.testkit.ProxyFixture;
import io.tlsproxy.testkit.ProxyProcess;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.testkit.TestServer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The deployed process reloads its certificates on SIGHUP, with periodic checks turned off. */
class SighupReloadIT {

  @RegisterExtension
  static final ProxyFixture fx = ProxyFixture.create();

  @Test
  void sighupMakesNewHandshakesUseTheNewCertificate() throws Exception {
    TestPki pki = fx.pki();
    TestPki.Issued ca = pki.ca("hup-ca");
    TestPki.Issued first = pki.server(ca, "hup.test", "hup.test");
    TestPki.Issued second = pki.server(ca, "hup.test", "hup.test");
    Path cert = fx.dir().resolve("server.pem");
    Path key = fx.dir().resolve("server-key.pem");
    Files.copy(first.certFile(), cert);
    Files.copy(first.keyFile(), key);
    SSLContext client = TestPki.clientContext(ca, null);
    TestServer echo = fx.echoBackend();
    ProxyProcess proxy = fx.startProcess("""
        reload: {checkInterval: 0}
        listeners:
          - {name: web, listen: 127.0.0.1:0, tls: {certificates: [{cert: %s, key: %s}]},
             upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(cert, key, echo.port()), 1);
    int port = proxy.port("web");
    assertEquals(first.cert().getSerialNumber(), serial(client, port));
    Files.copy(second.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(second.certFile(), cert, StandardCopyOption.REPLACE_EXISTING);
    assertEquals(first.cert().getSerialNumber(), serial(client, port), "no reload without a signal");
    ExternalProcess hup = ExternalProcess.run(fx.dir(), Duration.ofSeconds(10), "kill", "-HUP",
        Long.toString(proxy.pid()));
    assertEquals(0, hup.process().exitValue(), hup.output());
    proxy.awaitLine(Duration.ofSeconds(15), "listener web: certificates reloaded");
    Await.until("new handshakes to get the new serial", Duration.ofSeconds(15), () -> {
      try {
        return serial(client, port).equals(second.cert().getSerialNumber());
      } catch (Exception e) {
        return false;
      }
    });
  }

  private static BigInteger serial(SSLContext client, int port) throws Exception {
    try (SSLSocket s = Clients.tls(client, port, "hup.test")) {
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }
}
