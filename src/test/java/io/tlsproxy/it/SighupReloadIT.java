package io.tlsproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The deployed process reloads its certificates on SIGHUP, with periodic checks turned off; started with SIGHUP
 * ignored, it says in one line that SIGHUP cannot reach it.
 */
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
    proxy.assumeSighupReaches();
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

  @Test
  void aProcessStartedWithSighupIgnoredSaysSoInOneLine() throws Exception {
    TestServer echo = fx.echoBackend();
    String yaml = """
        listeners:
          - {name: plain, listen: 127.0.0.1:0, upstream: {endpoints: [127.0.0.1:%d]}}
        """.formatted(echo.port());
    // As nohup starts a command: SIGHUP ignored, then exec, so the JVM inherits the disposition.
    List<String> ignoringHup = List.of("sh", "-c", "trap '' HUP; exec \"$@\"", "sh");
    try (ProxyProcess ignored = ProxyProcess.start(fx.dir(), yaml, 1, List.of(), Map.of(), ignoringHup);
         ProxyProcess plain = ProxyProcess.start(fx.dir(), yaml, 1)) {
      plain.assumeSighupReaches();
      String line = ignored.awaitLine(Duration.ofSeconds(15), "SIGHUP is ignored in this process");
      assertTrue(line.contains(" WARN ") && line.contains("reload.checkInterval"), line);
      assertEquals(1, ignored.lines().stream().filter(l -> l.contains("SIGHUP")).count(), ignored.lines().toString());
      assertFalse(plain.lines().stream().anyMatch(l -> l.contains("SIGHUP")), plain.lines().toString());
    }
  }

  private static BigInteger serial(SSLContext client, int port) throws Exception {
    try (SSLSocket s = Clients.tls(client, port, "hup.test")) {
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }
}
