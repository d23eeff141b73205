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

{{/* Secrets named by the structured listeners: certificates, client CAs, upstream CAs. */}}
{{- define "tlsproxy.listenerSecrets" -}}
{{- $root := . }}
{{- $names := list }}
{{- range .Values.listeners }}
{{- if .tls }}
{{- $names = append $names (include "tlsproxy.listenerSecret" (dict "listener" . "root" $root)) }}
{{- if .tls.clientCaSecretName }}{{ $names = append $names .tls.clientCaSecretName }}{{ end }}
{{- end }}
{{- if and .upstream.tls .upstream.tls.caSecretName }}{{ $names = append $names .upstream.tls.caSecretName }}{{ end }}
{{- end }}
{{- toJson $names }}
{{- end }}

{{/* Every Secret the proxy mounts, as a JSON list of {name, mountPath}: with config, certificateSecrets and the
default Secret when it is named or cert-manager writes it; else the listeners' Secrets and certificateSecrets. */}}
{{- define "tlsproxy.secretMounts" -}}
{{- $names := list }}
{{- if .Values.config }}
{{- if or .Values.tls.secretName .Values.certManager.enabled }}
{{- $names = list (include "tlsproxy.defaultSecret" .) }}
{{- end }}
{{- else }}
{{- $names = include "tlsproxy.listenerSecrets" . | fromJsonArray }}
{{- end }}
{{- $mounts := list }}
{{- range $names | uniq }}
{{- $mounts = append $mounts (dict "name" . "mountPath" (include "tlsproxy.certDir" .)) }}
{{- end }}
{{- range .Values.certificateSecrets }}
{{- $m := dict "name" .name "mountPath" (.mountPath | default (include "tlsproxy.certDir" .name)) }}
{{- if not (has $m $mounts) }}{{ $mounts = append $mounts $m }}{{ end }}
{{- end }}
{{- $paths := list }}
{{- range $mounts }}
{{- if has .mountPath $paths }}
{{- fail (printf "certificateSecrets: two Secrets mounted at %s; give one its own mountPath" .mountPath) }}
{{- end }}
{{- $paths = append $paths .mountPath }}
{{- end }}
{{- toJson $mounts }}
{{- end }}

{{- define "tlsproxy.certDir" -}}
/etc/tlsproxy/certs/{{ . }}
{{- end }}

{{/* The listeners' ports, as a JSON list of {name, port, servicePort}. With config they come from each
listener's listen address; loopback and Unix socket listeners get none, since only the pod itself can reach
them. */}}
{{- define "tlsproxy.ports" -}}
{{- $ports := list }}
{{- if .Values.config }}
{{- range $i, $l := .Values.config.listeners }}
{{- $listen := toString $l.listen }}
{{- /* A Unix socket is reached through a shared volume, never through a port. */}}
{{- if not (hasPrefix "unix:" $listen) }}
{{- $port := regexFind "[0-9]+$" $listen | default "0" | int }}
{{- if or (lt $port 1) (gt $port 65535) }}
{{- fail (printf "config.listeners[%d].listen: %q has no fixed port; the chart needs one for the container port and the Service" $i $listen) }}
{{- end }}
{{- $host := trimSuffix (printf ":%d" $port) $listen }}
{{- if not (regexMatch "^(127\\.|localhost$|\\[::1\\]$)" $host) }}
{{- if gt (len (toString $l.name)) 15 }}
{{- fail (printf "config.listeners[%d].name: %q is longer than 15 characters, which a container port name may not be" $i (toString $l.name)) }}
{{- end }}
{{- $ports = append $ports (dict "name" $l.name "port" $port "servicePort" $port) }}
{{- end }}
{{- end }}
{{- end }}
{{- else }}
{{- range .Values.listeners }}
{{- $ports = append $ports (dict "name" .name "port" (int .port) "servicePort" (int (.servicePort | default .port))) }}
{{- end }}
{{- end }}
{{- toJson $ports }}
{{- end }}

{{/* The tlsproxy configuration file (keys as in conf/example.yaml): config as written, else built from
listeners; either way with the keys the pod depends on set from the chart's values. */}}
{{- define "tlsproxy.config" -}}
{{- $cfg := dict }}
{{- if .Values.config }}
{{- $cfg = deepCopy .Values.config }}
{{- else }}
{{- $cfg = dict "listeners" (include "tlsproxy.structuredListeners" . | fromJsonArray) "logging" (dict "format" .Values.logging.format) }}
{{- end }}
{{- $admin := deepCopy ($cfg.admin | default dict) }}
{{- $_ := set $admin "listen" (printf "0.0.0.0:%d" (int .Values.admin.port)) }}
{{- /* POST /quitquitquit (from loopback only) where the application must stop the proxy: a classic sidecar
outlives the app's exit otherwise, and a Job's pod never completes. Off everywhere else: SIGTERM drains. */}}
{{- $_ := unset $admin "enableQuit" }}
{{- if and (eq .Values.mode "sidecar") (not .Values.sidecar.native) }}
{{- $_ := set $admin "enableQuit" true }}
{{- end }}
{{- $shutdown := deepCopy ($cfg.shutdown | default dict) }}
{{- $_ := set $shutdown "drainTimeout" (printf "%ds" (int .Values.shutdown.drainTimeoutSeconds)) }}
{{- $_ := set $shutdown "acceptDuringDrain" .Values.shutdown.acceptDuringDrain }}
{{- $_ := set $cfg "admin" $admin }}
{{- $_ := set $cfg "shutdown" $shutdown }}
{{- toYaml $cfg }}
{{- end }}

{{/* The tlsproxy listeners built from the structured listeners value, as a JSON list. */}}
{{- define "tlsproxy.structuredListeners" -}}
{{- $root := . }}
{{- $listeners := list }}
{{- range .Values.listeners }}
{{- $l := dict "name" .name "listen" (printf "0.0.0.0:%d" (int .port)) }}
{{- if hasKey . "idleTimeout" }}{{ $_ := set $l "idleTimeout" .idleTimeout }}{{ end }}
{{- $listener := . }}
{{- range $key := list "maxConnections" "maxHandshakesPerSecond" "overLimit" "proxyProtocol" }}
{{- if hasKey $listener $key }}{{ $_ := set $l $key (index $listener $key) }}{{ end }}
{{- end }}
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
{{- toJson $listeners }}
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
  {{- if or .Values.javaOpts .Values.env }}
  env:
    {{- if .Values.javaOpts }}
    - name: JAVA_OPTS
      value: {{ .Values.javaOpts | quote }}
    {{- end }}
    {{- with .Values.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  ports:
    {{- range include "tlsproxy.ports" . | fromJsonArray }}
    - name: {{ .name }}
      containerPort: {{ int .port }}
      protocol: TCP
    {{- end }}
    - name: admin
      containerPort: {{ .Values.admin.port }}
      protocol: TCP
  startupProbe:
    {{- /* A native sidecar's startup probe decides when the application containers start: /readyz passes only
    once the proxy listens and its start-up warm-up is done, so the application's first connections are warm. */}}
    httpGet: {path: {{ if and (eq .Values.mode "sidecar") .Values.sidecar.native .Values.sidecar.gateOnReady }}/readyz{{ else }}/healthz{{ end }}, port: admin}
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
    {{- /* Whole Secret volumes, never subPath: only these see a rotated Secret's new files. */}}
    {{- range $i, $m := include "tlsproxy.secretMounts" . | fromJsonArray }}
    - name: certs-{{ $i }}
      mountPath: {{ $m.mountPath }}
      readOnly: true
    {{- end }}
    {{- include "tlsproxy.socketMount" . | nindent 4 }}
{{- end }}

{{/* Whether the application's Unix socket directory is shared: "true" or empty. */}}
{{- define "tlsproxy.socketVolume" -}}
{{- if and (eq .Values.mode "sidecar") .Values.sidecar.socketVolume.enabled }}true{{ end }}
{{- end }}

{{/* The mount of the shared socket directory, in the proxy and in each application container; empty without one. */}}
{{- define "tlsproxy.socketMount" -}}
{{- if include "tlsproxy.socketVolume" . }}
- name: app-socket
  mountPath: {{ .Values.sidecar.socketVolume.mountPath }}
{{- end }}
{{- end }}

{{/* The application containers of sidecar mode, each with the shared socket directory mounted when there is one. */}}
{{- define "tlsproxy.appContainers" -}}
{{- $containers := list }}
{{- $mount := include "tlsproxy.socketMount" . | fromYamlArray }}
{{- range .Values.sidecar.containers }}
{{- $c := deepCopy . }}
{{- if $mount }}
{{- $_ := set $c "volumeMounts" (concat ($c.volumeMounts | default list) $mount) }}
{{- end }}
{{- $containers = append $containers $c }}
{{- end }}
{{- toYaml $containers }}
{{- end }}

{{/* The proxy's volumes: its configuration, an in-memory /tmp, its certificate Secrets and the socket directory
it shares with the application (sidecar.socketVolume). */}}
{{- define "tlsproxy.volumes" -}}
- name: config
  configMap:
    name: {{ include "tlsproxy.fullname" . }}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 64Mi
{{- range $i, $m := include "tlsproxy.secretMounts" . | fromJsonArray }}
- name: certs-{{ $i }}
  secret:
    secretName: {{ $m.name }}
{{- end }}
{{- if include "tlsproxy.socketVolume" . }}
- name: app-socket
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.sidecar.socketVolume.sizeLimit }}
{{- end }}
{{- end }}
