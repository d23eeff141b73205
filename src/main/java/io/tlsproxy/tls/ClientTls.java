package io.tlsproxy.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

/**
 * TLS originated towards an upstream: one context per upstream policy (contexts are never shared between
 * policies, so verification settings cannot leak from one upstream to another).
 */
public final class ClientTls {

  private final SslContext context;
  private final TlsPolicy policy;
  private final String serverName;
  private final boolean verify;
  private final String trustSource;
  private final KeyMaterial clientCertificate;

  ClientTls(SslContext context, TlsPolicy policy, String serverName, boolean verify, String trustSource,
            KeyMaterial clientCertificate) {
    this.context = context;
    this.policy = policy;
    this.serverName = serverName;
    this.verify = verify;
    this.trustSource = trustSource;
    this.clientCertificate = clientCertificate;
  }

  /**
   * A handler for one connection to {@code host:port}. The name verified and sent as SNI is the configured
   * server name, else {@code host}; the session cache is keyed on it too.
   */
  public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
    return context.newHandler(alloc, serverName != null ? serverName : host, port);
  }

  public TlsPolicy policy() {
    return policy;
  }

  public String serverName() {
    return serverName;
  }

  public boolean verifiesPeer() {
    return verify;
  }

  public String trustSource() {
    return trustSource;
  }

  public KeyMaterial clientCertificate() {
    return clientCertificate;
  }
}
