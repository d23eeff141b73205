{{/* Names and labels. */}}
{{- define "tlsproxy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tlsproxy.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "tlsproxy.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "tlsproxy.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "tlsproxy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tlsproxy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tlsproxy.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "tlsproxy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- end }}

{{/* The default certificate Secret: tls.secretName, else <fullname>-tls; certManager.enabled makes the Certificate
write it. */}}
{{- define "tlsproxy.defaultSecret" -}}
{{- .Values.tls.secretName | default (printf "%s-tls" (include "tlsproxy.fullname" .)) }}
{{- end }}

{{/* A listener's certificate Secret: its own tls.secretName, else the default one. */}}
{{- define "tlsproxy.listenerSecret" -}}
{{- .listener.tls.secretName | default (include "tlsproxy.defaultSecret" .root) }}
{{- end }}

{{/* Every Secret the proxy mounts, one per line. */}}
{{- define "tlsproxy.secrets" -}}
{{- $root := . }}
{{- $names := list }}
{{- range .Values.listeners }}
{{- if .tls }}
{{- $names = append $names (include "tlsproxy.listenerSecret" (dict "listener" . "root" $root)) }}
{{- if .tls.clientCaSecretName }}{{ $names = append $names .tls.clientCaSecretName }}{{ end }}
{{- end }}
{{- if and .upstream.tls .upstream.tls.caSecretName }}{{ $names = append $names .upstream.tls.caSecretName }}{{ end }}
{{- end }}
{{- range $names | uniq }}
{{ . }}
{{- end }}
{{- end }}

{{- define "tlsproxy.certDir" -}}
/etc/tlsproxy/certs/{{ . }}
{{- end }}

{{/* The tlsproxy configuration file (keys as in conf/example.yaml). */}}
{{- define "tlsproxy.config" -}}
{{- $root := . }}
{{- $listeners := list }}
{{- range .Values.listeners }}
{{- $l := dict "name" .name "listen" (printf "0.0.0.0:%d" (int .port)) }}
{{- if hasKey . "idleTimeout" }}{{ $_ := set $l "idleTimeout" .idleTimeout }}{{ end }}
{{- if .tls }}
{{- $dir := include "tlsproxy.certDir" (include "tlsproxy.listenerSecret" (dict "listener" . "root" $root)) }}
{{- $tls := omit .tls "secretName" "clientCaSecretName" }}
{{- $_ := set $tls "certificates" (list (dict "cert" (printf "%s/tls.crt" $dir) "key" (printf "%s/tls.key" $dir))) }}
{{- if .tls.clientCaSecretName }}
{{- $_ := set $tls "clientCa" (printf "%s/ca.crt" (include "tlsproxy.certDir" .tls.clientCaSecretName)) }}
{{- end }}
{{- $_ := set $l "tls" $tls }}
{{- end }}
{{- $up := omit .upstream "tls" }}
{{- if .upstream.tls }}
{{- $ut := omit .upstream.tls "caSecretName" }}
{{- if .upstream.tls.caSecretName }}
{{- $_ := set $ut "ca" (printf "%s/ca.crt" (include "tlsproxy.certDir" .upstream.tls.caSecretName)) }}
{{- end }}
{{- $_ := set $up "tls" $ut }}
{{- else if hasKey .upstream "tls" }}
{{- $_ := set $up "tls" dict }}
{{- end }}
{{- $_ := set $l "upstream" $up }}
{{- $listeners = append $listeners $l }}
{{- end }}
{{- $cfg := dict
  "admin" (dict "listen" (printf "0.0.0.0:%d" (int .Values.admin.port)))
  "listeners" $listeners
  "shutdown" (dict "drainTimeout" (printf "%ds" (int .Values.shutdown.drainTimeoutSeconds)) "acceptDuringDrain" .Values.shutdown.acceptDuringDrain)
  "logging" (dict "format" .Values.logging.format) }}
{{- toYaml $cfg }}
{{- end }}

{{/* The proxy container; in sidecar mode with sidecar.native it becomes an init container with restartPolicy Always. */}}
{{- define "tlsproxy.container" -}}
- name: tlsproxy
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if and (eq .Values.mode "sidecar") .Values.sidecar.native }}
  restartPolicy: Always
  {{- end }}
  args: ["--config", "/etc/tlsproxy/tlsproxy.yaml"]
  {{- if .Values.javaOpts }}
  env:
    - name: JAVA_OPTS
      value: {{ .Values.javaOpts | quote }}
  {{- end }}
  ports:
    {{- range .Values.listeners }}
    - name: {{ .name }}
      containerPort: {{ .port }}
      protocol: TCP
    {{- end }}
    - name: admin
      containerPort: {{ .Values.admin.port }}
      protocol: TCP
  startupProbe:
    httpGet: {path: /healthz, port: admin}
    {{- toYaml .Values.probes.startup | nindent 4 }}
  livenessProbe:
    httpGet: {path: /healthz, port: admin}
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet: {path: /readyz, port: admin}
    {{- toYaml .Values.probes.readiness | nindent 4 }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /etc/tlsproxy/tlsproxy.yaml
      subPath: tlsproxy.yaml
      readOnly: true
    - name: tmp
      mountPath: /tmp
    {{- range $i, $s := include "tlsproxy.secrets" . | trim | splitList "\n" | compact }}
    - name: certs-{{ $i }}
      mountPath: {{ include "tlsproxy.certDir" $s }}
      readOnly: true
    {{- end }}
{{- end }}

{{/* The proxy's volumes: its configuration, an in-memory /tmp and its certificate Secrets. */}}
{{- define "tlsproxy.volumes" -}}
- name: config
  configMap:
    name: {{ include "tlsproxy.fullname" . }}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 64Mi
{{- range $i, $s := include "tlsproxy.secrets" . | trim | splitList "\n" | compact }}
- name: certs-{{ $i }}
  secret:
    secretName: {{ $s }}
{{- end }}
{{- end }}
