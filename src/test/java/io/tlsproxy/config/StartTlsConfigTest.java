package io.tlsproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The {@code startTls} key on both sides: its values, and one clear line per mistake. */
@ExtendWith(VertxExtension.class)
class StartTlsConfigTest {

  private static final String CERTS = "certificates: [{cert: c.pem, key: k.pem}]";

  @TempDir
  static Path dir;

  private static ListenerConfig read(Vertx vertx, String listenerKeys) throws IOException {
    Path file = Files.createTempFile(dir, "starttls", ".yaml");
    Files.writeString(file, "listeners: [{name: a, listen: '127.0.0.1:0', " + listenerKeys + "}]\n");
    return ConfigLoader.load(vertx, file, Map.of()).listeners().get(0);
  }

  private static List<String> problems(Vertx vertx, String listenerKeys) {
    return assertThrows(ConfigException.class, () -> read(vertx, listenerKeys)).problems();
  }

  @Test
  void eachSideNamesItsProtocol(Vertx vertx) throws IOException {
    ListenerConfig in = read(vertx, "tls: {" + CERTS + ", startTls: imap}, upstream: {endpoints: ['127.0.0.1:1']}");
    assertEquals(StartTlsProtocol.IMAP, in.tls().startTls());
    ListenerConfig out = read(vertx, "upstream: {endpoints: ['127.0.0.1:1'], tls: {startTls: SMTP}}");
    assertEquals(StartTlsProtocol.SMTP, out.upstream().tls().startTls());
    assertNull(read(vertx, "upstream: {endpoints: ['127.0.0.1:1'], tls: {}}").upstream().tls().startTls());
  }

  @Test
  void anUnknownProtocolIsNamedWithTheChoices(Vertx vertx) {
    assertEquals(List.of("listeners[0].upstream.tls.startTls: unknown value 'xmpp'; use one of smtp, imap, pop3, "
            + "postgres, ldap"),
        problems(vertx, "upstream: {endpoints: ['127.0.0.1:1'], tls: {startTls: xmpp}}"));
  }

  @Test
  void bothSidesUpgradingWouldGreetTheClientTwice(Vertx vertx) {
    assertEquals(List.of("listeners[0].upstream.tls.startTls: cannot be combined with the listener's tls.startTls "
            + "(the client would be greeted twice); remove one, or use upstream tls without startTls"),
        problems(vertx, "tls: {" + CERTS + ", startTls: smtp}, "
            + "upstream: {endpoints: ['127.0.0.1:1'], tls: {startTls: smtp}}"));
  }
}
