package io.tlsproxy.chart;

import static io.tlsproxy.chart.HelmChartTest.CHART;
import static io.tlsproxy.chart.HelmChartTest.config;
import static io.tlsproxy.chart.HelmChartTest.notes;
import static io.tlsproxy.chart.HelmChartTest.pod;
import static io.tlsproxy.chart.HelmChartTest.render;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.Yaml;

/**
 * What the chart leaves open: the admin endpoint (no way to stop the proxy but where the application needs one,
 * no Service port but for the ServiceMonitor), the NetworkPolicy, and a sidecar's application port that would
 * bypass the proxy's client certificates.
 */
class ChartSecurityTest {

  @TempDir
  Path dir;

  static Stream<Path> scenarios() throws Exception {
    return HelmChartTest.scenarios();
  }

  private static Map<?, ?> admin(HelmChartTest.Rendered r) {
    return (Map<?, ?>) ((Map<?, ?>) new Yaml().load(config(r))).get("admin");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void quitIsEnabledOnlyForAClassicSidecar(Path values) {
    Map<?, ?> admin = admin(render(values));
    if (values.getFileName().toString().equals("sidecar-classic-values.yaml")) {
      assertEquals(true, admin.get("enableQuit"), "the application stops a classic sidecar: " + admin);
    } else {
      assertFalse(admin.containsKey("enableQuit"), "POST /quitquitquit stays off (404): " + admin);
    }
  }

  @Test
  void theChartOwnsEnableQuitInARawConfig() throws Exception {
    Path values = Files.writeString(dir.resolve("quit-values.yaml"), """
        config:
          admin: {enableQuit: true}
          listeners: [{name: web, listen: "0.0.0.0:8443", upstream: {endpoints: ["web-backend:8080"]}}]
        """);
    assertEquals(Map.of("listen", "0.0.0.0:9901"), admin(render(values)), "a gateway is stopped by SIGTERM only");
  }

  @Test
  void aClassicSidecarsNotesTellTheApplicationHowToStopTheProxy() {
    String notes = notes("sidecar-classic");
    assertTrue(notes.contains("curl -X POST http://127.0.0.1:9901/quitquitquit"), notes);
    assertFalse(notes("sidecar-native").contains("quitquitquit"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void theAdminPortIsNotOnTheServiceWithoutTheServiceMonitor(Path values) {
    HelmChartTest.Rendered r = render(values);
    assertFalse(r.has("ServiceMonitor"), "no monitoring.coreos.com/v1 API in a plain render");
    assertEquals(List.of(), adminServicePorts(r));
  }

  @Test
  void theServiceMonitorBringsTheAdminPortOntoTheService() {
    HelmChartTest.Rendered r = render(CHART.resolve("ci/servicemonitor-values.yaml"),
        Map.of("metrics.serviceMonitor.skipApiCheck", true));
    assertTrue(r.has("ServiceMonitor"));
    assertEquals(List.of(9901), adminServicePorts(r));
  }

  private static List<Integer> adminServicePorts(HelmChartTest.Rendered r) {
    return r.one("Service", Service.class).getSpec().getPorts().stream()
        .filter(p -> p.getName().equals("admin") || p.getPort() == 9901).map(ServicePort::getPort).toList();
  }

  @Test
  void noNetworkPolicyUnlessAskedFor() {
    assertFalse(render(null).has("NetworkPolicy"));
  }

  @Test
  void networkPolicyAdmitsClientsToTheListenersAndMonitoringToTheAdminPortOnly() {
    HelmChartTest.Rendered r = render(CHART.resolve("ci/networkpolicy-values.yaml"));
    NetworkPolicy policy = r.one("NetworkPolicy", NetworkPolicy.class);
    assertEquals(r.one("Deployment", Deployment.class).getSpec().getSelector().getMatchLabels(),
        policy.getSpec().getPodSelector().getMatchLabels(), "selects the proxy's pods");
    assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes());
    List<NetworkPolicyIngressRule> rules = policy.getSpec().getIngress();
    assertEquals(2, rules.size(), "listeners and admin, nothing else: " + rules);

    assertEquals(List.of(8443, 5432), ports(rules.get(0)), "the listeners' container ports");
    List<NetworkPolicyPeer> clients = rules.get(0).getFrom();
    assertEquals("ingress-nginx", clients.get(0).getNamespaceSelector().getMatchLabels()
        .get("kubernetes.io/metadata.name"));
    assertEquals("10.20.0.0/16", clients.get(1).getIpBlock().getCidr());
    assertEquals(List.of("10.20.99.0/24"), clients.get(1).getIpBlock().getExcept());

    assertEquals(List.of(9901), ports(rules.get(1)), "the admin port");
    NetworkPolicyPeer prometheus = rules.get(1).getFrom().get(0);
    assertEquals("monitoring", prometheus.getNamespaceSelector().getMatchLabels()
        .get("kubernetes.io/metadata.name"));
    assertEquals("prometheus", prometheus.getPodSelector().getMatchLabels().get("app.kubernetes.io/name"));
  }

  @Test
  void networkPolicyShutsASidecarsApplicationPortAndAdminWithoutMonitoringPeers() {
    HelmChartTest.Rendered r = render(CHART.resolve("ci/sidecar-native-values.yaml"),
        Map.of("networkPolicy.enabled", true, "sidecar.allowAppPortExposure", true));
    List<NetworkPolicyIngressRule> rules = r.one("NetworkPolicy", NetworkPolicy.class).getSpec().getIngress();
    assertEquals(1, rules.size(), "no monitoring peers: no rule for the admin port: " + rules);
    assertEquals(List.of(8443), ports(rules.get(0)), "the listener only, not the application's 8080");
    assertTrue(rules.get(0).getFrom().isEmpty(), "no clients named: any source may reach the listener");
  }

  @Test
  void networkPolicyOfAPodWithNothingToServeAdmitsNothing() throws Exception {
    Path values = Files.writeString(dir.resolve("loopback-values.yaml"), """
        networkPolicy: {enabled: true}
        config:
          listeners: [{name: db, listen: "127.0.0.1:5432", upstream: {endpoints: ["db.internal:5432"]}}]
        """);
    NetworkPolicy policy = render(values).one("NetworkPolicy", NetworkPolicy.class);
    assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes());
    assertEquals(List.of(), policy.getSpec().getIngress(), "a loopback listener and no monitoring peers");
  }

  private static List<Integer> ports(NetworkPolicyIngressRule rule) {
    for (NetworkPolicyPort p : rule.getPorts()) {
      assertEquals("TCP", p.getProtocol());
    }
    return rule.getPorts().stream().map(NetworkPolicyPort::getPort).map(IntOrString::getIntVal).toList();
  }

  @Test
  void networkPolicyPeersAreCheckedByTheSchema() throws Exception {
    Path values = Files.writeString(dir.resolve("peer-values.yaml"),
        "networkPolicy: {enabled: true, monitoring: [{namespaceSelecter: {matchLabels: {a: b}}}]}\n");
    var e = assertThrows(IllegalStateException.class, () -> render(values));
    assertTrue(e.getMessage().contains("namespaceSelecter"), e.getMessage());
  }

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
