package io.tlsproxy.chart;

import static io.tlsproxy.chart.HelmChartTest.CHART;
import static io.tlsproxy.chart.HelmChartTest.KUBE_VERSION;
import static io.tlsproxy.chart.HelmChartTest.notes;
import static io.tlsproxy.chart.HelmChartTest.parse;
import static io.tlsproxy.chart.HelmChartTest.render;
import static io.tlsproxy.chart.HelmChartTest.template;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chart against the cluster it is rendered for: the Kubernetes versions it needs (the chart's kubeVersion,
 * 1.29 for native sidecars) and the custom resources it creates only where their API is served.
 */
class ChartCapabilitiesTest {

  @TempDir
  Path dir;

  static Stream<Path> scenarios() throws Exception {
    return HelmChartTest.scenarios();
  }

  /** A scenario in sidecar mode with sidecar.native (the chart's default there): it needs Kubernetes 1.29. */
  private static boolean isNativeSidecar(Path values) {
    try {
      Map<?, ?> v = new org.yaml.snakeyaml.Yaml().load(java.nio.file.Files.readString(values));
      Object sidecar = v.get("sidecar");
      return "sidecar".equals(v.get("mode"))
          && !(sidecar instanceof Map<?, ?> s && Boolean.FALSE.equals(s.get("native")));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static HelmChartTest.Rendered renderOn(String kubeVersion, Path values) {
    return parse(template(CHART, values, kubeVersion, Map.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void everyScenarioButNativeSidecarsRendersOnTheOldestKubernetesTheChartAccepts(Path values) {
    if (isNativeSidecar(values)) {
      return;
    }
    assertTrue(renderOn("v1.23.0", values).has("Deployment"));
    var e = assertThrows(IllegalStateException.class, () -> renderOn("v1.22.17", values));
    assertTrue(e.getMessage().contains("kubeVersion"), e.getMessage());
  }

  @Test
  void nativeSidecarsNeedKubernetes129() {
    Path values = CHART.resolve("ci/sidecar-native-values.yaml");
    for (String old : List.of("v1.28.9", "v1.28.3-eks-1234567")) {
      var e = assertThrows(IllegalStateException.class, () -> renderOn(old, values), old);
      assertTrue(e.getMessage().contains("sidecar.native: true needs Kubernetes 1.29"), e.getMessage());
      assertTrue(e.getMessage().contains("the cluster is " + old.replaceAll("-.*", ""))
          && e.getMessage().contains("sidecar.native: false"), e.getMessage());
    }
    assertTrue(renderOn("v1.29.0", values).has("Deployment"));
    assertTrue(renderOn("v1.29.1-gke.100", values).has("Deployment"));
    assertTrue(renderOn("v1.28.9", CHART.resolve("ci/sidecar-classic-values.yaml")).has("Deployment"),
        "a classic sidecar runs on 1.28");
  }

  @Test
  void serviceMonitorAndCertificateAreLeftOutWhereTheClusterLacksTheirApi() {
    HelmChartTest.Rendered monitor = render(CHART.resolve("ci/servicemonitor-values.yaml"));
    assertFalse(monitor.has("ServiceMonitor"));
    HelmChartTest.Rendered cert = render(CHART.resolve("ci/cert-manager-values.yaml"));
    assertFalse(cert.has("Certificate"));
    assertTrue(notes("servicemonitor").contains("no ServiceMonitor was created"));
    String certNotes = notes("cert-manager");
    assertTrue(certNotes.contains("no Certificate was created") && certNotes.contains("edge-tlsproxy-tls"),
        certNotes);
  }

  @Test
  void skipApiCheckRendersThemAnyway() {
    assertTrue(render(CHART.resolve("ci/servicemonitor-values.yaml"),
        Map.of("metrics.serviceMonitor.skipApiCheck", true)).has("ServiceMonitor"));
    assertTrue(render(CHART.resolve("ci/cert-manager-values.yaml"), Map.of("certManager.skipApiCheck", true))
        .has("Certificate"));
    assertFalse(notes("servicemonitor", Map.of("metrics.serviceMonitor.skipApiCheck", true))
        .contains("WARNING"));
  }

  /**
   * Helm's client takes no {@code --api-versions} here, so the cluster's API list cannot be extended. Instead a
   * copy of the chart asks for an API that every cluster serves (apps/v1) in place of the custom ones: the
   * objects then render with no override, which shows that the check reads the render's capabilities.
   */
  @Test
  void anApiTheClusterServesIsEnough() throws Exception {
    Path chart = HelmChartTest.copyChart(dir.resolve("tlsproxy"));
    Path preflight = chart.resolve("templates/_preflight.tpl");
    String text = Files.readString(preflight);
    for (String api : List.of("monitoring.coreos.com/v1/ServiceMonitor", "cert-manager.io/v1/Certificate")) {
      assertTrue(text.contains('"' + api + '"'), api);
      text = text.replace('"' + api + '"', "\"apps/v1\"");
    }
    Files.writeString(preflight, text);
    Map<String, Object> both = Map.of("metrics.serviceMonitor.enabled", true, "certManager.enabled", true,
        "certManager.issuerRef.name", "ca");
    HelmChartTest.Rendered served = parse(template(chart, null, KUBE_VERSION, both));
    assertTrue(served.has("ServiceMonitor") && served.has("Certificate"), served.byKind().keySet().toString());
    HelmChartTest.Rendered original = parse(template(CHART, null, KUBE_VERSION, both));
    assertFalse(original.has("ServiceMonitor") || original.has("Certificate"));
  }
}
