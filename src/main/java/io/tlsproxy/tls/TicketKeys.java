package io.tlsproxy.tls;

import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import java.security.SecureRandom;
import java.util.List;

/**
 * The session ticket keys of one client policy of a listener on the OpenSSL engine: the newest key encrypts new
 * tickets, the one before it still decrypts, so a ticket stays usable for one to two rotation intervals. Keys are
 * per listener and per route with a client policy of its own: BoringSSL's session id context is the same for every
 * Netty context, so shared keys would let a ticket issued on one listener, or for a public route's name, resume on
 * another, past its client-certificate checks. The JDK engine keeps its own keys
 * per context and ignores these.
 */
final class TicketKeys {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final List<SslContext> contexts;
  private OpenSslSessionTicketKey current = newKey();
  private OpenSslSessionTicketKey previous;

  /**
   * Fresh keys for {@code contexts}. A certificate reload builds new contexts with new keys on purpose: a session
   * from before it must not resume past a new client CA or a CRL that now revokes its client.
   */
  TicketKeys(List<SslContext> contexts) {
    this.contexts = List.copyOf(contexts);
    apply();
  }

  /** A new key encrypts from now on; the current one is kept for decryption and the one before it dropped. */
  synchronized void rotate() {
    previous = current;
    current = newKey();
    apply();
  }

  private void apply() {
    OpenSslSessionTicketKey[] keys = previous == null
        ? new OpenSslSessionTicketKey[] {current} : new OpenSslSessionTicketKey[] {current, previous};
    for (SslContext ctx : contexts) {
      if (ctx.sessionContext() instanceof OpenSslServerSessionContext openssl) {
        openssl.setTicketKeys(keys);
      }
    }
  }

  private static OpenSslSessionTicketKey newKey() {
    byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
    byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
    byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
    RANDOM.nextBytes(name);
    RANDOM.nextBytes(hmac);
    RANDOM.nextBytes(aes);
    return new OpenSslSessionTicketKey(name, hmac, aes);
  }
}
