package io.tlsproxy.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A scrape of the admin endpoint's {@code /metrics}, with look-ups of samples by name and labels. */
public final class Scrape {

  /** HTTP/1.1 as Prometheus speaks it; the JDK client's h2c upgrade attempt is not what scrapers do. */
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private final String text;

  public Scrape(String text) {
    this.text = text;
  }

  /** GETs {@code path} of the admin endpoint on 127.0.0.1:{@code port}. */
  public static HttpResponse<String> get(int port, String path, String accept) throws IOException,
      InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10));
    if (accept != null) {
      b.header("Accept", accept);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** POSTs an empty body to {@code path} of the admin endpoint on 127.0.0.1:{@code port}. */
  public static HttpResponse<String> post(int port, String path) throws IOException, InterruptedException {
    return send(port, "POST", path);
  }

  /** Sends a {@code method} request with an empty body to {@code path} of the admin endpoint. */
  public static HttpResponse<String> send(int port, String method, String path) throws IOException,
      InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public static Scrape of(int adminPort) throws IOException, InterruptedException {
    HttpResponse<String> r = get(adminPort, "/metrics", null);
    if (r.statusCode() != 200) {
      throw new AssertionError("/metrics answered " + r.statusCode());
    }
    return new Scrape(r.body());
  }

  public String text() {
    return text;
  }

  /** The sum of every sample named {@code name} whose labels include all of {@code labels} (0 when none). */
  public double sum(String name, String... labels) {
    Map<String, String> wanted = new HashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      wanted.put(labels[i], labels[i + 1]);
    }
    double total = 0;
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches() || !m.group(1).equals(name)) {
        continue;
      }
      Map<String, String> have = new HashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          have.put(l.group(1), l.group(2));
        }
      }
      if (have.entrySet().containsAll(wanted.entrySet())) {
        total += Double.parseDouble(m.group(4));
      }
    }
    return total;
  }
}
