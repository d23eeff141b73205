package io.tlsproxy.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.testkit.TestPki;
import io.tlsproxy.material.CertificateInUse;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metric names are public API, defined once in {@link MetricNames} and documented in docs/metrics.md: after every
 * kind of event has been recorded once, the registry holds exactly the names of MetricNames, and the scrape has
 * exactly the documented families, each of its documented type with its documented labels.
 */
class MetricNamesTest {

  private static final Path DOC = Path.of("docs/metrics.md");
  /** A row of the "Metric names" table: name, type, labels, meaning. */
  private static final Pattern ROW = Pattern.compile("^\\| `(tlsproxy_\\w+)` \\| ([^|]+) \\| ([^|]*) \\|");
  private static final Pattern TYPE = Pattern.compile("^# TYPE (\\w+) (\\w+)$");
  private static final Pattern SAMPLE = Pattern.compile("^(\\w+)(?:\\{(.*)})? \\S+$");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"(?:[^\"\\\\]|\\\\.)*\"");

  /** A documented metric family: its type (counter, gauge, histogram) and label names. */
  record Family(String type, Set<String> labels) {
  }

  @TempDir
  Path dir;
  private PrometheusMetrics metrics;

  @BeforeEach
  void recordEveryKindOfEvent() {
    TestPki pki = new TestPki(dir);
    TestPki.Issued ca = pki.ca("metrics-ca");
    metrics = new PrometheusMetrics("test");
    ListenerMetrics l = metrics.listener("web");
    l.handshakeSucceeded(false, "TLSv1.3", "TLS_AES_128_GCM_SHA256", false, 2_000_000);
    l.handshakeSucceeded(true, "TLSv1.3", "TLS_AES_128_GCM_SHA256", true, 1_000_000);
    l.handshakeFailed(false, "unknown_ca", 3_000_000);
    l.connectionOpened();
    l.connectionClosed(50_000_000, CloseReason.COMPLETED);
    l.bytesToUpstream(100);
    l.bytesToDownstream(200);
    l.upstreamConnectFailed("127.0.0.1:1", "refused");
    l.proxyProtocolFailed("missing");
    l.upstreamEndpointUp("127.0.0.1:1", true);
    l.upstreamResolveFailed("db.test:5432");
    l.routed("default");
    l.connectionRejected(RejectReason.MAX_CONNECTIONS);
    metrics.certificates("web", List.of(new CertificateInUse(CertificateInUse.SERVER,
        pki.server(ca, "web", "web.test").cert()), new CertificateInUse(CertificateInUse.CA, ca.cert())));
    metrics.reloaded("web", true);
    metrics.warmedUp(java.time.Duration.ofMillis(900), 1500);
  }

  @AfterEach
  void close() {
    metrics.close();
  }

  @Test
  void theRegistryHoldsExactlyTheNamesOfMetricNames() throws IllegalAccessException {
    Set<String> defined = new TreeSet<>();
    for (Field f : MetricNames.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.get(null) instanceof String value
          && value.startsWith("tlsproxy.")) {
        defined.add(value);
      }
    }
    Set<String> registered = metrics.registry().getMeters().stream().map(m -> m.getId().getName())
        .filter(n -> n.startsWith("tlsproxy.")).collect(Collectors.toCollection(TreeSet::new));
    assertEquals(defined, registered, () -> "in MetricNames but not registered: " + difference(defined, registered)
        + "; registered but not in MetricNames: " + difference(registered, defined));
  }

  @Test
  void theScrapeHasExactlyTheDocumentedFamiliesWithTheirTypesAndLabels() throws IOException {
    Map<String, Family> documented = documented();
    Map<String, Family> scraped = scraped(metrics.scrape(null));
    assertEquals(documented.keySet(), scraped.keySet(), () -> "documented but not scraped: "
        + difference(documented.keySet(), scraped.keySet()) + "; scraped but not documented: "
        + difference(scraped.keySet(), documented.keySet()));
    for (Map.Entry<String, Family> e : documented.entrySet()) {
      assertEquals(e.getValue(), scraped.get(e.getKey()), e.getKey());
    }
  }

  private static Set<String> difference(Set<String> a, Set<String> b) {
    Set<String> out = new TreeSet<>(a);
    out.removeAll(b);
    return out;
  }

  /** The "Metric names" table of docs/metrics.md; a name listed twice must have the same type and labels. */
  private static Map<String, Family> documented() throws IOException {
    Map<String, Family> out = new TreeMap<>();
    for (String line : Files.readAllLines(DOC)) {
      Matcher m = ROW.matcher(line);
      if (!m.find()) {
        continue;
      }
      String type = m.group(2).trim().split("[ ,]")[0];
      Set<String> labels = new TreeSet<>();
      Matcher label = Pattern.compile("`(\\w+)`").matcher(m.group(3));
      while (label.find()) {
        labels.add(label.group(1));
      }
      Family f = new Family(type, labels);
      Family before = out.putIfAbsent(m.group(1), f);
      assertTrue(before == null || before.equals(f), m.group(1) + " documented twice, differently: " + before
          + " and " + f);
    }
    assertFalse(out.isEmpty(), "no metric rows found in " + DOC);
    return out;
  }

  /**
   * The tlsproxy families of a scrape in the text format, named as docs/metrics.md names them (counters with
   * {@code _total}), with the label names of their samples ({@code le} of histogram buckets left out). Micrometer
   * publishes a timer's largest recent value as a gauge of the timer's name with {@code _max}: that gauge is
   * counted as part of the histogram it belongs to, and must carry the same labels.
   */
  private static Map<String, Family> scraped(String text) {
    Map<String, String> types = new HashMap<>();
    for (String line : text.split("\n")) {
      Matcher m = TYPE.matcher(line);
      if (m.matches() && m.group(1).startsWith("tlsproxy_")) {
        types.put(m.group(1), m.group(2));
      }
    }
    Map<String, Family> out = new TreeMap<>();
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (line.startsWith("#") || !m.matches() || !m.group(1).startsWith("tlsproxy_")) {
        continue;
      }
      String family = familyOf(m.group(1), types);
      Set<String> labels = new TreeSet<>();
      Matcher label = LABEL.matcher(m.group(2) == null ? "" : m.group(2));
      while (label.find()) {
        labels.add(label.group(1));
      }
      labels.remove("le");
      String type = types.get(family);
      String documentedName = family;
      if (type.equals("counter") && !family.endsWith("_total")) {
        documentedName = family + "_total";
      } else if (type.equals("gauge") && family.endsWith("_max")
          && "histogram".equals(types.get(family.substring(0, family.length() - "_max".length())))) {
        documentedName = family.substring(0, family.length() - "_max".length());
        type = "histogram";
      }
      Family f = new Family(type, labels);
      Family before = out.putIfAbsent(documentedName, f);
      assertTrue(before == null || before.equals(f), documentedName + " has samples with other labels: " + before
          + " and " + f);
    }
    return out;
  }

  /** The family a sample belongs to: its own name, or that name without a histogram's or counter's suffix. */
  private static String familyOf(String sample, Map<String, String> types) {
    if (types.containsKey(sample)) {
      return sample;
    }
    for (String suffix : List.of("_bucket", "_count", "_sum", "_total", "_created")) {
      if (sample.endsWith(suffix) && types.containsKey(sample.substring(0, sample.length() - suffix.length()))) {
        return sample.substring(0, sample.length() - suffix.length());
      }
    }
    throw new AssertionError("sample " + sample + " has no # TYPE line");
  }
}
