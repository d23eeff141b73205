package io.tlsproxy.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.tlsproxy.testkit.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Helm chart, rendered by Helm itself for every ci/ scenario and read back into the Kubernetes model with
 * no unknown field allowed: probes on the admin port, a restrictive security context, a grace period longer
 * than the drain, native sidecars, and a tlsproxy configuration that tlsproxy's own --check accepts.
 */
class HelmChartTest {

  static final Path CHART = Path.of("helm/tlsproxy");
  static final String KUBE_VERSION = "v1.31.0";
  private static final JsonMapper MAPPER = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  @TempDir
  static Path dir;
  static TestPki.Issued ca;
  static TestPki.Issued server;

  @BeforeAll
  static void mint() {
    TestPki pki = new TestPki(dir);
    ca = pki.ca("chart-ca");
    server = pki.server(ca, "chart.test", "chart.test");
  }

  /** The rendered objects of one scenario, by kind. */
  record Rendered(Map<String, List<Map<String, Object>>> byKind) {
    <T> T one(String kind, Class<T> type) {
      List<Map<String, Object>> all = byKind.getOrDefault(kind, List.of());
      assertEquals(1, all.size(), "one " + kind + " rendered");
      return strict(all.get(0), type);
    }

    boolean has(String kind) {
      return byKind.containsKey(kind);
    }
  }

  static Stream<Path> scenarios() throws Exception {
    try (Stream<Path> files = Files.list(CHART.resolve("ci"))) {
      return files.filter(p -> p.toString().endsWith("-values.yaml")).sorted().toList().stream();
    }
  }

  static Rendered render(Path values) {
    return render(values, Map.of());
  }

  /** Renders a scenario (null: the chart's defaults) with {@code --set} values on top. */
  static Rendered render(Path values, Map<String, Object> set) {
    return parse(template(CHART, values, KUBE_VERSION, set));
  }

  /** What {@code helm template} prints for the chart at {@code chart} on a cluster of {@code kubeVersion}. */
  static String template(Path chart, Path values, String kubeVersion, Map<String, Object> set) {
    var template = new Helm(chart).template().withName("edge").withNamespace("proxies")
        .withKubeVersion(kubeVersion);
    if (values != null) {
      template.withValuesFile(values.toAbsolutePath());
    }
    set.forEach(template::set);
    return template.call();
  }

  @SuppressWarnings("unchecked")
  static Rendered parse(String manifests) {
    Map<String, List<Map<String, Object>>> byKind = new LinkedHashMap<>();
    for (Object doc : new Yaml().loadAll(manifests)) {
      if (doc instanceof Map<?, ?> m) {
        byKind.computeIfAbsent((String) m.get("kind"), k -> new ArrayList<>()).add((Map<String, Object>) m);
      }
    }
    return new Rendered(byKind);
  }

  /** Converts to the model type and fails on any field that type does not have (a typo in a template). */
  static <T> T strict(Map<String, Object> raw, Class<T> type) {
    T value = MAPPER.convertValue(raw, type);
    List<String> unknown = new ArrayList<>();
    unknownFields(value, type.getSimpleName(), unknown);
    assertEquals(List.of(), unknown, "fields unknown to the Kubernetes API");
    return value;
  }

  private static void unknownFields(Object o, String path, List<String> found) {
    if (o instanceof Map<?, ?> m) {
      m.forEach((k, v) -> unknownFields(v, path + "." + k, found));
    } else if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) {
        unknownFields(e, path + "[" + i++ + "]", found);
      }
    } else if (o != null && o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      for (Method m : o.getClass().getMethods()) {
        if (m.getParameterCount() != 0 || !m.getName().startsWith("get") || m.getDeclaringClass() == Object.class) {
          continue;
        }
        Object v;
        try {
          v = m.invoke(o);
        } catch (ReflectiveOperationException e) {
          throw new AssertionError(e);
        }
        if (m.getName().equals("getAdditionalProperties")) {
          if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
            found.add(path + ": " + extra.keySet());
          }
        } else {
          unknownFields(v, path + "." + m.getName().substring(3), found);
        }
      }
    }
  }

  static PodSpec pod(Rendered r) {
    return r.one("Deployment", Deployment.class).getSpec().getTemplate().getSpec();
  }

  static Container proxy(PodSpec pod) {
    return Stream.concat(pod.getContainers().stream(), pod.getInitContainers().stream())
        .filter(c -> c.getName().equals("tlsproxy")).findFirst().orElseThrow();
  }

  @Test
  void lintPassesStrictly() {
    LintResult lint = new Helm(CHART).lint().strict().call();
    assertFalse(lint.isFailed(), String.join("\n", lint.getMessages()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void probesPointAtTheAdminPortAndTheContainerIsLockedDown(Path values) {
    PodSpec pod = pod(render(values));
    Container c = proxy(pod);
    int admin = c.getPorts().stream().filter(p -> p.getName().equals("admin")).findFirst().orElseThrow()
        .getContainerPort();
    for (HTTPGetAction probe : List.of(c.getLivenessProbe().getHttpGet(), c.getReadinessProbe().getHttpGet(),
        c.getStartupProbe().getHttpGet())) {
      assertEquals("admin", probe.getPort().getStrVal(), "probes use the admin port");
    }
    assertEquals("/healthz", c.getLivenessProbe().getHttpGet().getPath());
    assertEquals("/readyz", c.getReadinessProbe().getHttpGet().getPath());
    var sc = c.getSecurityContext();
    assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem());
    assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation());
    assertEquals(Boolean.TRUE, sc.getRunAsNonRoot());
    assertEquals(List.of("ALL"), sc.getCapabilities().getDrop());
    assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
    assertTrue(pod.getSecurityContext().getRunAsUser() > 0);
    assertEquals("/tmp", c.getVolumeMounts().stream().filter(m -> m.getName().equals("tmp")).findFirst()
        .orElseThrow().getMountPath(), "the one writable place");
    assertTrue(admin > 0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void renderedConfigurationPassesTlsproxyCheck(Path values) throws Exception {
    Rendered r = render(values);
    Map<String, Object> parsed = passesCheck(r, values.getFileName().toString());
    @SuppressWarnings("unchecked")
    String listen = ((Map<String, String>) parsed.get("admin")).get("listen");
    assertTrue(listen.startsWith("0.0.0.0:"), "the kubelet probes the pod IP: " + listen);
    int admin = Integer.parseInt(listen.substring("0.0.0.0:".length()));
    Container c = proxy(pod(r));
    assertEquals(admin, c.getPorts().stream().filter(p -> p.getName().equals("admin")).findFirst().orElseThrow()
        .getContainerPort(), "container port and configuration agree");
    long drain = Long.parseLong(((Map<?, ?>) parsed.get("shutdown")).get("drainTimeout").toString()
        .replace("s", ""));
    assertTrue(pod(r).getTerminationGracePeriodSeconds() > drain, "grace period longer than the drain");
  }

  static String config(Rendered r) {
    String config = r.byKind().get("ConfigMap").stream().map(cm -> strict(cm, ConfigMap.class))
        .map(cm -> cm.getData().get("tlsproxy.yaml")).filter(Objects::nonNull).findFirst().orElse(null);
    assertNotNull(config);
    return config;
  }

  /**
   * Runs tlsproxy --check on the rendered configuration as the pod would see it. Every absolute file path in it
   * must lie in a Secret that the proxy container mounts; the files are minted here, one folder per mount, and
   * the paths moved there. Returns the parsed configuration.
   */
  static Map<String, Object> passesCheck(Rendered r, String label) throws Exception {
    String config = config(r);
    @SuppressWarnings("unchecked")
    Map<String, Object> parsed = (Map<String, Object>) new Yaml().load(config);
    PodSpec pod = pod(r);
    Map<String, String> secretOfVolume = new LinkedHashMap<>();
    pod.getVolumes().stream().filter(v -> v.getSecret() != null)
        .forEach(v -> secretOfVolume.put(v.getName(), v.getSecret().getSecretName()));
    List<VolumeMount> mounts = proxy(pod).getVolumeMounts().stream()
        .filter(m -> secretOfVolume.containsKey(m.getName())).toList();
    Path certs = Files.createDirectories(dir.resolve(label + "-certs"));
    List<String> paths = new ArrayList<>();
    absolutePaths(parsed, paths);
    for (String path : paths) {
      VolumeMount mount = mounts.stream().filter(m -> path.startsWith(m.getMountPath() + "/")).findFirst()
          .orElseThrow(() -> new AssertionError(path + " is in no Secret the proxy mounts: " + mounts));
      assertNull(mount.getSubPath(), "a subPath mount would never see a rotated Secret: " + mount);
      String file = path.substring(mount.getMountPath().length() + 1);
      Path source = switch (file) {
        case "tls.crt" -> server.certFile();
        case "tls.key" -> server.keyFile();
        case "ca.crt" -> ca.certFile();
        default -> throw new AssertionError(path + ": not a file of a kubernetes.io/tls Secret");
      };
      Path target = Files.createDirectories(certs.resolve(mount.getName())).resolve(file);
      Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
    }
    String local = config;
    for (VolumeMount m : mounts) {
      local = local.replace(m.getMountPath() + "/", certs.resolve(m.getName()) + "/");
    }
    Path file = dir.resolve(label + "-tlsproxy.yaml");
    Files.writeString(file, local);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = io.tlsproxy.CheckAccess.run(new String[] {"--check", "--config", file.toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, code, local + "\n" + err.toString(StandardCharsets.UTF_8));
    return parsed;
  }

  private static void absolutePaths(Object node, List<String> found) {
    if (node instanceof Map<?, ?> m) {
      m.values().forEach(v -> absolutePaths(v, found));
    } else if (node instanceof List<?> l) {
      l.forEach(v -> absolutePaths(v, found));
    } else if (node instanceof String s && s.startsWith("/")) {
      found.add(s);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void everyObjectReadsBackIntoTheModel(Path values) {
    Rendered r = render(values);
    r.one("Service", Service.class);
    if (r.has("PodDisruptionBudget")) {
      r.one("PodDisruptionBudget", PodDisruptionBudget.class);
    }
    if (r.has("HorizontalPodAutoscaler")) {
      HorizontalPodAutoscaler hpa = r.one("HorizontalPodAutoscaler", HorizontalPodAutoscaler.class);
      assertNull(r.one("Deployment", Deployment.class).getSpec().getReplicas(), "the autoscaler owns replicas");
      assertEquals("Deployment", hpa.getSpec().getScaleTargetRef().getKind());
    }
    for (Map<String, Object> cm : r.byKind().get("ConfigMap")) {
      strict(cm, ConfigMap.class);
    }
  }

  @Test
  void anImageAndACertificateSecretNameAreAllANewUserNeeds() throws Exception {
    Path values = CHART.resolve("ci/minimal-values.yaml");
    LintResult lint = new Helm(chartWithValues(values)).lint().strict().call();
    assertFalse(lint.isFailed(), String.join("\n", lint.getMessages()));
    Path mistyped = Files.writeString(dir.resolve("mistyped-values.yaml"), "tls: {secretName: 7}\n");
    assertTrue(new Helm(chartWithValues(mistyped)).lint().strict().call().isFailed(), "lint sees merged values");

    Rendered r = render(values);
    PodSpec pod = pod(r);
    assertEquals("registry.example/tlsproxy:0.1.0", proxy(pod).getImage());
    String volume = pod.getVolumes().stream()
        .filter(v -> v.getSecret() != null && v.getSecret().getSecretName().equals("web-tls")).findFirst()
        .orElseThrow(() -> new AssertionError("Secret web-tls is not a volume")).getName();
    String mountPath = proxy(pod).getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst()
        .orElseThrow().getMountPath();
    Map<String, Object> config = passesCheck(r, "minimal");
    Map<?, ?> certificate = (Map<?, ?>) ((List<?>) ((Map<?, ?>) ((Map<?, ?>) ((List<?>) config.get("listeners"))
        .get(0)).get("tls")).get("certificates")).get(0);
    assertEquals(mountPath + "/tls.crt", certificate.get("cert"));
    assertEquals(mountPath + "/tls.key", certificate.get("key"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void rawConfigIsRenderedAsWrittenSaveTheKeysThePodNeeds() throws Exception {
    Path values = CHART.resolve("ci/raw-config-values.yaml");
    Map<String, Object> expected = (Map<String, Object>) ((Map<String, Object>) new Yaml()
        .load(Files.readString(values))).get("config");
    expected.put("admin", Map.of("listen", "0.0.0.0:9901"));
    expected.put("shutdown", Map.of("drainTimeout", "30s", "acceptDuringDrain", true));
    Rendered r = render(values);
    assertEquals(expected, new Yaml().load(config(r)), "config wins over listeners; admin and shutdown are the chart's");

    PodSpec pod = pod(r);
    assertEquals(List.of("web", "admin"), proxy(pod).getPorts().stream().map(p -> p.getName()).toList(),
        "the loopback listener gets no port");
    assertEquals(List.of("web:8443"), r.one("Service", Service.class).getSpec().getPorts().stream()
        .map(p -> p.getName() + ":" + p.getPort()).toList());
    Map<String, String> mountOfSecret = new LinkedHashMap<>();
    for (var v : pod.getVolumes()) {
      if (v.getSecret() != null) {
        mountOfSecret.put(v.getSecret().getSecretName(), proxy(pod).getVolumeMounts().stream()
            .filter(m -> m.getName().equals(v.getName())).findFirst().orElseThrow().getMountPath());
      }
    }
    assertEquals(Map.of("web-tls", "/etc/tlsproxy/certs/web-tls", "clients-ca", "/etc/tlsproxy/clients",
        "db-client", "/etc/tlsproxy/db-client"), mountOfSecret, "certificateSecrets only, not the default Secret");
    var env = proxy(pod).getEnv();
    assertEquals(List.of("DB_PRIMARY"), env.stream().map(e -> e.getName()).toList(), "env as given, no JAVA_OPTS");
    assertEquals("db-endpoints", env.get(0).getValueFrom().getConfigMapKeyRef().getName(),
        "the variable the raw config's ${DB_PRIMARY} reads comes from the ConfigMap");
  }

  @Test
  void egressProxyReachesTheConfigurationAndItsPasswordOnlyAsAVariable() throws Exception {
    Map<?, ?> config = new Yaml().load(config(render(CHART.resolve("ci/egress-proxy-values.yaml"))));
    Map<?, ?> upstream = (Map<?, ?>) ((Map<?, ?>) ((List<?>) config.get("listeners")).get(0)).get("upstream");
    assertEquals(Map.of("type", "socks5", "address", "egress-proxy.infra:1080"), upstream.get("via"));
    String listener = "listeners: [{name: out, port: 8080, upstream: {endpoints: ['a.example:443'], via: %s}}]\n";
    Path withVariable = Files.writeString(dir.resolve("via-values.yaml"), listener.formatted(
        "{type: http-connect, address: 'p:3128', username: u, password: '${EGRESS_PROXY_PASSWORD}'}"));
    Map<?, ?> rendered = new Yaml().load(config(render(withVariable)));
    assertTrue(rendered.toString().contains("password=${EGRESS_PROXY_PASSWORD}"), rendered.toString());
    // A literal password would sit in a ConfigMap; half a pair of credentials and unknown types are refused too.
    for (String via : List.of("{type: http-connect, address: 'p:3128', username: u, password: hunter2}",
        "{type: http-connect, address: 'p:3128', username: u}", "{type: socks4, address: 'p:1080'}")) {
      Path file = Files.writeString(dir.resolve("via-mistake-values.yaml"), listener.formatted(via));
      var e = assertThrows(IllegalStateException.class, () -> render(file), via);
      assertTrue(e.getMessage().contains("via"), via + " -> " + e.getMessage());
    }
  }

  @Test
  void rawConfigMistakesFailTheRenderNamingTheKey() throws Exception {
    Map<String, String> cases = Map.of(
        "config: {listeners: [{name: web, listen: '0.0.0.0:${PORT}'}]}", "config.listeners[0].listen",
        "config: {listeners: [{name: a-very-long-listener, listen: '0.0.0.0:8443'}]}", "config.listeners[0].name",
        "config: [web]", "config",
        "certificateSecrets: [{name: a, mountPath: /x}, {name: b, mountPath: /x}]", "two Secrets mounted at /x",
        "certificateSecrets: [{name: a, mountPth: /x}]", "mountPth");
    for (var c : cases.entrySet()) {
      Path file = Files.writeString(dir.resolve("mistake-values.yaml"), c.getKey() + "\n");
      var e = assertThrows(IllegalStateException.class, () -> render(file), c.getKey());
      assertTrue(e.getMessage().contains(c.getValue()), c.getKey() + " -> " + e.getMessage());
    }
  }

  @Test
  void notesNameTheSecretsAndSayRotationNeedsNoRestart() {
    for (String scenario : List.of("minimal", "raw-config", "cert-manager")) {
      String notes = notes(scenario);
      assertTrue(notes.contains("loads them with no restart"), notes);
      assertFalse(notes.replace("with no restart", "").toLowerCase().contains("restart"), notes);
    }
    String raw = notes("raw-config");
    assertTrue(raw.contains("clients-ca at /etc/tlsproxy/clients"), raw);
    assertTrue(raw.contains("db-tunnel: 127.0.0.1:5432 (in the pod only)"), raw);
    assertTrue(raw.contains("checking every 10s"), raw);
  }

  /** What helm install prints for a ci/ scenario, NOTES.txt included (a client-only dry run). */
  static String notes(String scenario) {
    return notes(scenario, Map.of());
  }

  /** The same with {@code --set} values on top. */
  static String notes(String scenario, Map<String, Object> set) {
    var install = new Helm(CHART).install().withName("edge").withNamespace("proxies").withKubeVersion(KUBE_VERSION)
        .withValuesFile(CHART.resolve("ci/" + scenario + "-values.yaml").toAbsolutePath()).dryRun().clientOnly();
    set.forEach(install::set);
    return install.call().getOutput();
  }

  /**
   * A copy of the chart whose values.yaml is the chart's own merged with the given file, as Helm merges
   * {@code -f}: maps key by key, anything else replaced. Helm's lint reads only the chart's values.yaml, and
   * helm-java's lint takes no values file, so this is how the chart is linted with a user's values.
   */
  static Path chartWithValues(Path values) throws Exception {
    Path copy = copyChart(dir.resolve("lint-" + values.getFileName()).resolve("tlsproxy"));
    Yaml yaml = new Yaml();
    Object merged = merge(yaml.load(Files.readString(CHART.resolve("values.yaml"))),
        yaml.load(Files.readString(values)));
    Files.writeString(copy.resolve("values.yaml"), yaml.dump(merged));
    return copy;
  }

  /** A copy of the chart at {@code copy}, to be changed by a test. */
  static Path copyChart(Path copy) throws Exception {
    try (Stream<Path> files = Files.walk(CHART)) {
      for (Path source : files.toList()) {
        Path target = copy.resolve(CHART.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return copy;
  }

  private static Object merge(Object base, Object over) {
    if (base instanceof Map<?, ?> b && over instanceof Map<?, ?> o) {
      Map<Object, Object> result = new LinkedHashMap<>(b);
      o.forEach((k, v) -> result.put(k, merge(b.get(k), v)));
      return result;
    }
    return over;
  }

  @Test
  void aMisspelledFieldIsCaughtEvenThoughTheModelWouldKeepIt() {
    Map<String, Object> typo = Map.of("apiVersion", "v1", "kind", "Service",
        "spec", Map.of("tpye", "ClusterIP", "ports", List.of(Map.of("port", 443, "targetPrt", "web"))));
    AssertionError e = assertThrows(AssertionError.class, () -> strict(typo, Service.class));
    assertTrue(e.getMessage().contains("tpye") && e.getMessage().contains("targetPrt"), e.getMessage());
  }

  @Test
  void nativeSidecarIsAnInitContainerThatRestartsAlways() {
    PodSpec pod = pod(render(CHART.resolve("ci/sidecar-native-values.yaml")));
    Container c = pod.getInitContainers().stream().filter(x -> x.getName().equals("tlsproxy")).findFirst()
        .orElseThrow(() -> new AssertionError("tlsproxy is not an init container"));
    assertEquals("Always", c.getRestartPolicy());
    assertEquals(List.of("app"), pod.getContainers().stream().map(Container::getName).toList());
  }

  @Test
  void nativeSidecarStartsTheApplicationOnlyOnceTheProxyIsWarmedUp() {
    Path values = CHART.resolve("ci/sidecar-native-values.yaml");
    assertEquals("/readyz", proxy(pod(render(values))).getStartupProbe().getHttpGet().getPath(),
        "the application containers start after the sidecar's startup probe, so after /readyz: warmed up");
    assertEquals("/healthz", proxy(pod(render(values, Map.of("sidecar.gateOnReady", false))))
        .getStartupProbe().getHttpGet().getPath());
    assertEquals("/healthz", proxy(pod(render(CHART.resolve("ci/sidecar-classic-values.yaml"))))
        .getStartupProbe().getHttpGet().getPath(), "a classic sidecar gates nothing: Kubernetes starts both");
    assertEquals("/healthz", proxy(pod(render(null))).getStartupProbe().getHttpGet().getPath(),
        "a gateway's readiness probe keeps the Service from it until warmed up");
  }

  @Test
  void classicSidecarIsAnOrdinaryContainerBesideTheApplication() {
    PodSpec pod = pod(render(CHART.resolve("ci/sidecar-classic-values.yaml")));
    assertEquals(List.of("tlsproxy", "app"), pod.getContainers().stream().map(Container::getName).toList());
    assertNull(proxy(pod).getRestartPolicy());
    assertTrue(pod.getInitContainers().isEmpty());
  }

  @Test
  void sidecarSocketVolumeIsSharedByTheProxyAndTheApplicationAndNoPortOfTheAppIsOpen() {
    Rendered r = render(CHART.resolve("ci/sidecar-socket-values.yaml"));
    PodSpec pod = pod(r);
    var volume = pod.getVolumes().stream().filter(v -> v.getName().equals("app-socket")).findFirst()
        .orElseThrow(() -> new AssertionError("no app-socket volume: " + pod.getVolumes()));
    assertEquals("Memory", volume.getEmptyDir().getMedium());
    Container app = pod.getContainers().stream().filter(c -> c.getName().equals("app")).findFirst().orElseThrow();
    for (Container c : List.of(proxy(pod), app)) {
      assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getName().equals("app-socket")
          && m.getMountPath().equals("/run/app") && !Boolean.TRUE.equals(m.getReadOnly())),
          c.getName() + " mounts the socket directory writable: " + c.getVolumeMounts());
    }
    assertTrue(app.getPorts() == null || app.getPorts().isEmpty(), "the application declares no port");
    Map<?, ?> config = new Yaml().load(config(r));
    Map<?, ?> https = (Map<?, ?>) ((List<?>) config.get("listeners")).get(0);
    assertEquals(List.of("unix:/run/app/app.sock"), ((Map<?, ?>) https.get("upstream")).get("endpoints"));
    // The group every container shares owns the directory, so a 0660 socket of the app is open to the proxy.
    assertNotNull(pod.getSecurityContext().getFsGroup());
  }

  @Test
  void withoutASocketVolumeNoContainerGetsOne() {
    PodSpec pod = pod(render(CHART.resolve("ci/sidecar-native-values.yaml")));
    assertTrue(pod.getVolumes().stream().noneMatch(v -> v.getName().equals("app-socket")));
    assertTrue(pod.getContainers().stream().allMatch(c -> c.getVolumeMounts() == null
        || c.getVolumeMounts().isEmpty()), "the application's containers are rendered as written");
  }

  @Test
  void socketEndpointOutsideTheSharedDirectoryFailsTheRender() throws Exception {
    Path values = CHART.resolve("ci/sidecar-socket-values.yaml");
    var outside = assertThrows(IllegalStateException.class,
        () -> render(values, Map.of("listeners[0].upstream.endpoints[0]", "unix:/var/run/app.sock")));
    assertTrue(outside.getMessage().contains("listeners[0] (https): endpoint unix:/var/run/app.sock is outside "
        + "sidecar.socketVolume.mountPath /run/app"), outside.getMessage());
    var noVolume = assertThrows(IllegalStateException.class,
        () -> render(values, Map.of("sidecar.socketVolume.enabled", false)));
    assertTrue(noVolume.getMessage().contains("set sidecar.socketVolume.enabled: true"), noVolume.getMessage());
    var gateway = assertThrows(IllegalStateException.class,
        () -> render(null, Map.of("sidecar.socketVolume.enabled", true)));
    assertTrue(gateway.getMessage().contains("sidecar.socketVolume.enabled: only applies to mode: sidecar"),
        gateway.getMessage());
    // An abstract name needs no volume: the pod's containers share the network namespace it lives in.
    assertEquals(List.of("unix:@app"), ((Map<?, ?>) ((Map<?, ?>) ((List<?>) ((Map<?, ?>) new Yaml().load(config(
        render(values, Map.of("sidecar.socketVolume.enabled", false, "listeners[0].upstream.endpoints[0]",
            "unix:@app"))))).get("listeners")).get(0)).get("upstream")).get("endpoints"));
  }

  @Test
  void gatewayIsTheDefaultAndCertManagerFeedsTheListener() {
    Rendered plain = render(null);
    assertEquals(List.of("tlsproxy"), pod(plain).getContainers().stream().map(Container::getName).toList());
    assertFalse(plain.has("Certificate"));
    Rendered withCm = render(CHART.resolve("ci/cert-manager-values.yaml"), Map.of("certManager.skipApiCheck", true));
    Map<String, Object> cert = withCm.byKind().get("Certificate").get(0);
    String secret = (String) ((Map<?, ?>) cert.get("spec")).get("secretName");
    assertTrue(pod(withCm).getVolumes().stream()
        .anyMatch(v -> v.getSecret() != null && v.getSecret().getSecretName().equals(secret)));
  }

  @Test
  void structuredListenersCarryTheirLimitsProxyProtocolAndEngine() {
    Map<?, ?> config = new Yaml().load(config(render(CHART.resolve("ci/gateway-values.yaml"))));
    Map<?, ?> web = (Map<?, ?>) ((List<?>) config.get("listeners")).get(0);
    assertEquals(10000, web.get("maxConnections"));
    assertEquals(500, web.get("maxHandshakesPerSecond"));
    assertEquals("wait", web.get("overLimit"));
    Map<?, ?> tunnel = (Map<?, ?>) ((List<?>) config.get("listeners")).get(1);
    assertFalse(tunnel.containsKey("maxConnections"), "no limit unless one is set: " + tunnel);
    assertEquals("accept", web.get("proxyProtocol"));
    assertEquals("openssl", ((Map<?, ?>) web.get("tls")).get("engine"));
    assertEquals("v2", ((Map<?, ?>) tunnel.get("upstream")).get("proxyProtocol"));
  }

  @Test
  void scrapeAnnotationsServiceMonitorAndDashboard() {
    Rendered r = render(CHART.resolve("ci/servicemonitor-values.yaml"),
        Map.of("metrics.serviceMonitor.skipApiCheck", true));
    Map<String, String> annotations = r.one("Deployment", Deployment.class).getSpec().getTemplate().getMetadata()
        .getAnnotations();
    assertEquals("true", annotations.get("prometheus.io/scrape"));
    assertEquals("9901", annotations.get("prometheus.io/port"));
    Map<String, Object> monitor = r.byKind().get("ServiceMonitor").get(0);
    assertTrue(monitor.toString().contains("port=admin"), monitor.toString());
    assertTrue(r.one("Service", Service.class).getSpec().getPorts().stream()
        .anyMatch(p -> p.getName().equals("admin")));
    String dashboard = r.byKind().get("ConfigMap").stream()
        .map(cm -> strict(cm, ConfigMap.class)).filter(cm -> cm.getData().containsKey("tlsproxy.json"))
        .findFirst().orElseThrow().getData().get("tlsproxy.json");
    assertTrue(new io.vertx.core.json.JsonObject(dashboard).getJsonArray("panels").size() > 0);
  }

  @Test
  void schemaRejectsUnknownAndMistypedValues() {
    var unknown = assertThrows(IllegalStateException.class, () -> new Helm(CHART).template()
        .withKubeVersion(KUBE_VERSION).set("replicas", 3).call());
    assertTrue(unknown.getMessage().contains("replicas"), unknown.getMessage());
    var nested = assertThrows(IllegalStateException.class, () -> new Helm(CHART).template()
        .withKubeVersion(KUBE_VERSION).set("listeners[0].tsl.policy", "modern").call());
    assertTrue(nested.getMessage().contains("tsl"), nested.getMessage());
    var mistyped = assertThrows(IllegalStateException.class, () -> new Helm(CHART).template()
        .withKubeVersion(KUBE_VERSION).set("shutdown.acceptDuringDrain", "sometimes").call());
    assertTrue(mistyped.getMessage().contains("acceptDuringDrain"), mistyped.getMessage());
  }
}
