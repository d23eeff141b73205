package io.tlsproxy.chart;

import static io.tlsproxy.chart.HelmChartTest.CHART;
import static io.tlsproxy.chart.HelmChartTest.pod;
import static io.tlsproxy.chart.HelmChartTest.render;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the chart leaves open: a sidecar's application port that would bypass the proxy's client certificates. */
class ChartSecurityTest {

  @TempDir
  Path dir;

  /** The application declares the port the proxy forwards to: the first example of the chart did this. */
  private static final String EXPOSED = """
      mode: sidecar
      sidecar:
        containers:
          - name: app
            image: registry.example/app:1.0
            ports: [{name: http, containerPort: 8080}]
      listeners:
        - name: https
          port: 8443
          tls: {secretName: app-tls, clientAuth: %s, clientCaSecretName: clients-ca}
          upstream: {endpoints: ["127.0.0.1:8080"]}
      """;

  @Test
  void aSidecarWhoseApplicationPortBypassesClientCertificatesIsRefused() throws Exception {
    Path values = Files.writeString(dir.resolve("exposed-values.yaml"), EXPOSED.formatted("required"));
    var e = assertThrows(IllegalStateException.class, () -> render(values));
    for (String named : List.of("listeners[0] (https)", "tls.clientAuth: required", "127.0.0.1:8080",
        "sidecar.containers[0] (app)", "containerPort 8080", "sidecar.allowAppPortExposure")) {
      assertTrue(e.getMessage().contains(named), named + " in: " + e.getMessage());
    }
    assertTrue(render(values, Map.of("sidecar.allowAppPortExposure", true)).has("Deployment"),
        "an explicit choice renders");
    Path optional = Files.writeString(dir.resolve("optional-values.yaml"), EXPOSED.formatted("optional"));
    assertTrue(render(optional).has("Deployment"), "no certificate required, none bypassed");
    assertTrue(render(values, Map.of("mode", "gateway")).has("Deployment"),
        "a gateway's upstream is not in its pod");
  }

  @Test
  void aRawConfigsRouteToAnExposedApplicationPortIsRefusedToo() throws Exception {
    Path values = Files.writeString(dir.resolve("exposed-raw-values.yaml"), """
        mode: sidecar
        sidecar:
          native: false
          containers: [{name: app, image: registry.example/app:1.0, ports: [{containerPort: 9000}]}]
        config:
          listeners:
            - name: edge
              listen: 0.0.0.0:8443
              tls:
                certificates: [{cert: /etc/tlsproxy/certs/web-tls/tls.crt, key: /etc/tlsproxy/certs/web-tls/tls.key}]
                clientAuth: required
                clientCa: /etc/tlsproxy/certs/web-tls/ca.crt
              routes:
                - serverNames: [api.example]
                  upstream: {endpoints: ["localhost:9000"]}
              upstream: {endpoints: ["127.0.0.1:9001"]}
        certificateSecrets: [{name: web-tls}]
        """);
    var e = assertThrows(IllegalStateException.class, () -> render(values));
    assertTrue(e.getMessage().contains("config.listeners[0] (edge)"), e.getMessage());
    assertTrue(e.getMessage().contains("localhost:9000"), e.getMessage());
  }

  @Test
  void theSidecarExamplesKeepTheApplicationOnLoopback() {
    for (String scenario : List.of("sidecar-native", "sidecar-classic")) {
      var pod = pod(render(CHART.resolve("ci/" + scenario + "-values.yaml")));
      var app = pod.getContainers().stream().filter(c -> c.getName().equals("app")).findFirst().orElseThrow();
      assertTrue(app.getPorts().isEmpty(), scenario + ": the application declares no port of its own");
      assertTrue(app.getEnv().stream().anyMatch(v -> v.getValue().startsWith("127.0.0.1:")),
          scenario + ": the application is told to listen on loopback");
    }
  }
}
