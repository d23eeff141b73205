package io.tlsproxy.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.tlsproxy.config.ConfigLoader;
import io.tlsproxy.config.ConfigProblems;
import io.tlsproxy.config.ListenerConfig;
import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.tls.engine.TlsSessions;
import io.tlsproxy.tls.policy.PolicyResolver;
import io.tlsproxy.tls.policy.TlsPolicy;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Set-up shared by the tls tests: a listener read from YAML through the real {@link ConfigLoader} and built with
 * the real {@link TlsFactory}, and TLS handshakes between two Netty {@link SslHandler}s over in-memory channels.
 * The handshakes run the same engines, contexts and pipeline handlers as the proxy (the server side through
 * Netty's {@link SniHandler} over {@link ServerTls#select}, as the listener does); only the socket is left out.
 */
public final class TlsFixture {

  /** The key of the one listener the YAML documents of these tests hold. */
  public static final String KEY = "listeners[0]";

  private final Vertx vertx;
  private final Path dir;
  private final TestPki pki;
  private final TestPki.Issued ca;
  private final TestPki.Issued otherCa;
  private final TestPki.Issued server;
  private final TestPki.Issued client;

  /**
   * Writes configuration files and certificates into {@code dir} and reads them with {@code vertx}. Mints the
   * certificates most tests need: a CA, a server certificate for a.test and a client certificate (CN=proxy) from
   * it, and another CA that issued neither.
   */
  public TlsFixture(Vertx vertx, Path dir) {
    this.vertx = vertx;
    this.dir = dir;
    this.pki = new TestPki(dir);
    this.ca = pki.ca("ca");
    this.otherCa = pki.ca("other-ca");
    this.server = pki.server(ca, "a.test", "a.test");
    this.client = pki.client(ca, "proxy");
  }

  /** Another server certificate from {@link #ca()}, for {@code names}, the first of them also its common name. */
  public TestPki.Issued serverFor(String... names) {
    return pki.server(ca, names[0], names);
  }

  /** Mints more certificates into this fixture's folder. */
  public TestPki pki() {
    return pki;
  }

  public TestPki.Issued ca() {
    return ca;
  }

  public TestPki.Issued otherCa() {
    return otherCa;
  }

  public TestPki.Issued server() {
    return server;
  }

  public TestPki.Issued client() {
    return client;
  }

  /** The first listener of a configuration file holding {@code yaml}. */
  public ListenerConfig listener(String yaml) {
    try {
      Path file = Files.createTempFile(dir, "tlsproxy", ".yaml");
      Files.writeString(file, yaml);
      return ConfigLoader.load(vertx, file, Map.of()).listeners().get(0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A listener named {@code web} with {@code tls} as its {@code tls:} (null for plaintext) and an upstream dialled
   * with {@code upstreamTls} (null for plaintext), both YAML flow mappings.
   */
  public ListenerConfig listener(String tls, String upstreamTls) {
    return listener("listeners:\n  - name: web\n    listen: 127.0.0.1:0\n"
        + (tls == null ? "" : "    tls: " + tls + "\n")
        + "    upstream: {endpoints: [127.0.0.1:9]" + (upstreamTls == null ? "" : ", tls: " + upstreamTls) + "}\n");
  }

  /** The TLS of a listener with {@code tls} whose upstream is dialled with {@code upstreamTls}: a handshake pair. */
  public ListenerTls pair(String tls, String upstreamTls) {
    return build(listener(tls, upstreamTls));
  }

  /** {@code {cert: .., key: ..}}: a certificate entry for {@code cert}'s files. */
  public static String pem(TestPki.Issued cert) {
    return "{cert: " + cert.certFile() + ", key: " + cert.keyFile() + "}";
  }

  /** A listener's {@code tls:} serving {@code cert} on {@code engine}, with more keys ({@code ", policy: modern"}). */
  public static String serving(String engine, TestPki.Issued cert, String more) {
    return "{certificates: [" + pem(cert) + "], engine: " + engine + more + "}";
  }

  /** An upstream's {@code tls:} on {@code engine} verifying {@code serverName} against {@code ca}, with more keys. */
  public static String verifying(String engine, TestPki.Issued ca, String serverName, String more) {
    return "{ca: " + ca.certFile() + ", serverName: " + serverName + ", engine: " + engine + more + "}";
  }

  /** Builds {@code listener}'s TLS as start-up does, with the given clock; null with the reasons in problems. */
  public static ListenerTls build(ListenerConfig listener, Clock clock, ConfigProblems problems) {
    return ListenerTls.build(listener.name(), TlsSections.of(listener, KEY), factory(clock), problems);
  }

  /** Builds {@code listener}'s TLS at the current time; fails the test on any problem. */
  public static ListenerTls build(ListenerConfig listener) {
    ConfigProblems problems = new ConfigProblems();
    ListenerTls tls = build(listener, Clock.systemUTC(), problems);
    if (tls == null || !problems.isEmpty()) {
      throw new AssertionError("the listener's TLS should build: " + problems.list());
    }
    return tls;
  }

  public static TlsFactory factory(Clock clock) {
    return new TlsFactory(new PolicyResolver(), clock);
  }

  /** Netty's provider for an engine name of the configuration, for peers built outside tlsproxy's factory. */
  public static SslProvider provider(String engine) {
    return engine.equals(TlsPolicy.OPENSSL) ? SslProvider.OPENSSL : SslProvider.JDK;
  }

  /** The client side of {@code tls}'s one upstream. */
  public static ClientTls clientSide(ListenerTls tls) {
    return tls.upstreams().get(tls.upstreams().size() - 1).tls();
  }

  /** A handshake of the client side of {@code pair} dialling {@code host} with its server side. */
  public static Outcome handshake(ListenerTls pair, String host) {
    return handshake(pair.server(), clientSide(pair), host);
  }

  /** A handshake of {@code client} dialling {@code host} with {@code server}. */
  public static Outcome handshake(ServerTls server, ClientTls client, String host) {
    return handshake(new SniHandler(server::select), client.newHandler(ByteBufAllocator.DEFAULT, host, 443));
  }

  /** A handshake of {@code client} dialling {@code host} with a server using {@code server} for every name. */
  public static Outcome handshake(SslContext server, ClientTls client, String host) {
    return handshake(server.newHandler(ByteBufAllocator.DEFAULT),
        client.newHandler(ByteBufAllocator.DEFAULT, host, 443));
  }

  /**
   * Runs a handshake between {@code server} (an SslHandler, or a handler that installs one) and {@code client}
   * (an SslHandler, or whatever else a client may send) to its end, moving bytes between the two channels until
   * neither has anything more to send.
   */
  public static Outcome handshake(ChannelHandler server, ChannelHandler client) {
    Watcher serverSide = new Watcher();
    Watcher clientSide = new Watcher();
    EmbeddedChannel s = new EmbeddedChannel(server, serverSide);
    EmbeddedChannel c = new EmbeddedChannel(client, clientSide);
    try {
      for (int round = 0; round < 50 && (move(c, s) | move(s, c)); round++) {
        // the flight of one side is the input of the other
      }
      return new Outcome(clientSide.side(), serverSide.side());
    } finally {
      c.finishAndReleaseAll();
      s.finishAndReleaseAll();
    }
  }

  private static boolean move(EmbeddedChannel from, EmbeddedChannel to) {
    boolean moved = false;
    for (ByteBuf b = from.readOutbound(); b != null; b = from.readOutbound()) {
      moved = true;
      if (to.isOpen()) {
        to.writeInbound(b);
      } else {
        b.release();
      }
    }
    return moved;
  }

  /** What both sides of a handshake saw. */
  public record Outcome(Side client, Side server) {
    public boolean succeeded() {
      return client.succeeded() && server.succeeded();
    }

    /** The certificate the server presented, as the client received it. */
    public X509Certificate serverCertificate() {
      if (!succeeded()) {
        throw new AssertionError("the handshake should succeed: " + this);
      }
      return client.session().peer();
    }
  }

  /**
   * One side: whether its handshake succeeded, why not ({@code failure}, as the handshake completion event tells
   * the proxy), what it negotiated, and the exceptions that reached the end of its pipeline.
   */
  public record Side(boolean succeeded, Throwable failure, Session session, List<Throwable> errors) {
  }

  /** What a completed handshake negotiated; {@code group} only where the engine tells it (OpenSSL). */
  public record Session(String protocol, String cipherSuite, String alpn, String group, X509Certificate peer) {
    @Override
    public String toString() {
      return protocol + "/" + cipherSuite + " alpn=" + alpn + " group=" + group + " peer="
          + (peer == null ? null : peer.getSubjectX500Principal());
    }
  }

  /**
   * Sits behind the TLS handler: keeps the end of the handshake as the proxy's handlers learn it, and what reaches
   * the end of the pipeline, so that an in-memory channel does not rethrow it.
   */
  private static final class Watcher extends ChannelInboundHandlerAdapter {
    private final List<Throwable> errors = new ArrayList<>();
    private SslHandshakeCompletionEvent end;
    private Session session;

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof SslHandshakeCompletionEvent e && end == null) {
        end = e;
        if (e.isSuccess()) {
          SslHandler ssl = ctx.pipeline().get(SslHandler.class);
          SSLSession s = ssl.engine().getSession();
          session = new Session(s.getProtocol(), s.getCipherSuite(), ssl.applicationProtocol(),
              TlsSessions.group(ssl.engine()), peer(s));
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      errors.add(cause);
    }

    Side side() {
      return new Side(end != null && end.isSuccess(), end == null ? null : end.cause(), session, List.copyOf(errors));
    }

    private static X509Certificate peer(SSLSession s) {
      try {
        return (X509Certificate) s.getPeerCertificates()[0];
      } catch (SSLPeerUnverifiedException e) {
        return null; // none asked for (a client without client auth)
      }
    }
  }
}
