package io.tlsproxy.admin;

import io.tlsproxy.auth.Identities;
import io.tlsproxy.config.AdminConfig;
import io.tlsproxy.config.ConfigException;
import io.tlsproxy.config.HostPort;
import io.tlsproxy.listen.ProxyServer;
import io.tlsproxy.material.CertificateInUse;
import io.tlsproxy.metrics.PrometheusMetrics;
import io.tlsproxy.routing.ListenerSetup;
import io.tlsproxy.tls.ListenerTls;
import io.tlsproxy.tls.ServerTls;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.BindException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.MessageDigest;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * {@code /metrics} (Prometheus or OpenMetrics), {@code /healthz} (liveness: every listener's event loop
 * answers), {@code /readyz} (listening, not draining, and a healthy endpoint for every upstream that
 * requires one), {@code /certs} (certificates in use, no keys) and
 * {@code POST /quitquitquit}, which asks for a graceful exit. The endpoint only reads the proxy's state: the
 * exit is the caller's {@code onQuit}, so that one place owns stopping the process. The quit answers only when
 * {@code admin.enableQuit} is true and the client is on a loopback address (127.0.0.0/8, ::1), like
 * ghostunnel's {@code --enable-shutdown}: probes and scrapers need the port reachable, and must not be able to
 * stop the proxy through it. Otherwise it is an unknown path, answered 404, and nothing happens.
 */
public final class AdminServer {

  private static final Duration PING_TIMEOUT = Duration.ofSeconds(2);

  private final HttpServer server;

  private AdminServer(HttpServer server) {
    this.server = server;
  }

  public static Future<AdminServer> start(Vertx vertx, AdminConfig config, PrometheusMetrics metrics,
                                          ProxyServer proxy, List<ListenerSetup> setups, Runnable onQuit) {
    HostPort listen = config.listen();
    Runnable quit = config.enableQuit() ? onQuit : null;
    // HTTP/1.1 only: scrapers and probes speak it, and an h2c upgrade is one more thing to go wrong.
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(listen.host())
        .setPort(listen.port()).setReuseAddress(true).setHttp2ClearTextEnabled(false)
        .setIdleTimeout(60));
    server.requestHandler(req -> handle(req, metrics, proxy, setups, quit));
    return server.listen().map(s -> new AdminServer(s)).recover(t -> {
      String why = t instanceof BindException || String.valueOf(t.getMessage()).contains("in use")
          ? "address already in use; stop the other process or choose another port" : t.getMessage();
      return Future.failedFuture(new ConfigException("admin.listen: cannot listen on " + listen + ": " + why));
    });
  }

  public int port() {
    return server.actualPort();
  }

  public Future<Void> close() {
    return server.close();
  }

  /** {@code onQuit} is null when {@code admin.enableQuit} is false. */
  private static void handle(HttpServerRequest req, PrometheusMetrics metrics, ProxyServer proxy,
                             List<ListenerSetup> setups, Runnable onQuit) {
    if (req.path().equals("/quitquitquit")) {
      if (!quitServed(req, onQuit)) {
        reply(req, 404, "text/plain", notFound(false));
        return;
      }
      if (req.method() != HttpMethod.POST) {
        reply(req, 405, "text/plain", "only POST\n");
        return;
      }
      // Answer first: the exit that follows closes this connection.
      req.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end("draining, then exiting\n")
          .onComplete(x -> onQuit.run());
      return;
    }
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      reply(req, 405, "text/plain", "only GET\n");
      return;
    }
    switch (req.path()) {
      case "/metrics" -> {
        String accept = req.getHeader(HttpHeaders.ACCEPT);
        reply(req, 200, PrometheusMetrics.contentType(accept), metrics.scrape(accept));
      }
      case "/healthz" -> proxy.ping(PING_TIMEOUT).onComplete(ar -> {
        if (ar.succeeded()) {
          reply(req, 200, "text/plain", "ok\n");
        } else {
          reply(req, 503, "text/plain", "event loop not answering: " + ar.cause().getMessage() + "\n");
        }
      });
      case "/readyz" -> {
        List<String> unhealthy = proxy.withoutHealthyUpstream();
        if (proxy.isDraining()) {
          reply(req, 503, "text/plain", "draining\n");
        } else if (proxy.isWarmingUp()) {
          reply(req, 503, "text/plain", "warming up\n");
        } else if (!unhealthy.isEmpty()) {
          reply(req, 503, "text/plain", "no healthy upstream endpoint for listener "
              + String.join(", ", unhealthy) + "\n");
        } else {
          reply(req, 200, "text/plain", "ready\n");
        }
      }
      // Read at each request: reloads change what is in use.
      case "/certs" -> reply(req, 200, "application/json", inventory(setups).encodePrettily() + "\n");
      default -> reply(req, 404, "text/plain", notFound(quitServed(req, onQuit)));
    }
  }

  private static boolean quitServed(HttpServerRequest req, Runnable onQuit) {
    return onQuit != null && isLoopback(req.connection().remoteAddress());
  }

  /** The 404 text names {@code POST /quitquitquit} only to a client that may use it. */
  private static String notFound(boolean quitServed) {
    return quitServed ? "not found; try /metrics, /healthz, /readyz, /certs or POST /quitquitquit\n"
        : "not found; try /metrics, /healthz, /readyz or /certs\n";
  }

  /**
   * Whether the TCP peer is on a loopback address: 127.0.0.0/8 or ::1 (an IPv4-mapped ::ffff:127.x counts as
   * IPv4). Never a header such as X-Forwarded-For, which the client writes; anything else fails closed.
   */
  static boolean isLoopback(SocketAddress peer) {
    if (peer == null || !peer.isInetSocket() || peer.hostAddress() == null) {
      return false;
    }
    String ip = peer.hostAddress();
    if (ip.indexOf(':') < 0 && !ip.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      return false; // not an IP literal: never resolved here
    }
    try {
      return InetAddress.getByName(ip).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static void reply(HttpServerRequest req, int status, String type, String body) {
    req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, type)
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end(body);
  }

  /** Every certificate of every listener, described without private material. */
  static JsonArray inventory(List<ListenerSetup> setups) {
    JsonArray out = new JsonArray();
    for (ListenerSetup s : setups) {
      ListenerTls tls = s.tls();
      if (tls.server() != null) {
        // A CA that a route's own client policy trusts says which route.
        tls.server().certificatesInUse().forEach(c -> out.add(c.route() == null ? describe(s.name(), "downstream", c)
            : describe(s.name(), "downstream", c).put("route", c.route())));
        for (ServerTls.ClientPolicy p : tls.server().clientPolicies()) {
          p.crls().forEach(crl -> out.add(describe(s.name(), crl, p.route())));
        }
      }
      for (ListenerTls.Upstream u : tls.upstreams()) {
        if (u.tls() != null) {
          u.tls().certificatesInUse()
              .forEach(c -> out.add(describe(s.name(), "upstream", c).put("route", u.route())));
        }
      }
    }
    return out;
  }

  private static JsonObject describe(String listener, String side, CertificateInUse in) {
    X509Certificate c = in.certificate();
    // Unparsable names leave the lists empty: the certificate is listed without names rather than not at all.
    JsonArray dns = new JsonArray(List.copyOf(Identities.dnsNames(c)));
    JsonArray uris = new JsonArray(List.copyOf(Identities.uris(c)));
    return new JsonObject()
        .put("listener", listener)
        .put("side", side)
        .put("role", in.role())
        .put("subject", c.getSubjectX500Principal().getName())
        .put("dnsNames", dns)
        .put("uris", uris)
        .put("issuer", c.getIssuerX500Principal().getName())
        .put("serial", c.getSerialNumber().toString(16))
        .put("notBefore", c.getNotBefore().toInstant().toString())
        .put("notAfter", c.getNotAfter().toInstant().toString())
        .put("sha256", fingerprint(c));
  }

  /** A revocation list applied to client certificates: by the listener, or by {@code route} (null: listener). */
  private static JsonObject describe(String listener, X509CRL crl, String route) {
    JsonObject o = new JsonObject()
        .put("listener", listener)
        .put("side", "downstream")
        .put("role", "crl")
        .put("issuer", crl.getIssuerX500Principal().getName())
        .put("thisUpdate", crl.getThisUpdate().toInstant().toString())
        .put("nextUpdate", crl.getNextUpdate() == null ? null : crl.getNextUpdate().toInstant().toString())
        .put("revoked", crl.getRevokedCertificates() == null ? 0 : crl.getRevokedCertificates().size());
    return route == null ? o : o.put("route", route);
  }

  private static String fingerprint(X509Certificate c) {
    try {
      return HexFormat.ofDelimiter(":").withUpperCase()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
    } catch (CertificateEncodingException | java.security.NoSuchAlgorithmException e) {
      return "";
    }
  }
}
