{{/* Checks of values that the schema cannot express, one rule each, every message naming the values and the
fix. deployment.yaml includes them, so that no manifest renders after a failed check. */}}
{{- define "tlsproxy.preflight" -}}
{{- if eq .Values.mode "sidecar" }}
{{- if not .Values.sidecar.containers }}
{{- fail "sidecar.containers: empty; sidecar mode needs the application containers the proxy fronts" }}
{{- end }}
{{- /* Init containers with restartPolicy Always are sidecars from 1.29 (on by default); an older API server
drops the field and runs the proxy as a plain init container that never ends, so the app would never start.
https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/ */}}
{{- if and .Values.sidecar.native (semverCompare "<1.29.0-0" .Capabilities.KubeVersion.Version) }}
{{- fail (printf "sidecar.native: true needs Kubernetes 1.29 or later (native sidecar containers), and the cluster is %s; set sidecar.native: false for a classic sidecar" .Capabilities.KubeVersion.Version) }}
{{- end }}
{{- if not .Values.sidecar.allowAppPortExposure }}
{{- include "tlsproxy.checkAppPortNotExposed" . }}
{{- end }}
{{- end }}
{{- if and .Values.sidecar.socketVolume.enabled (ne .Values.mode "sidecar") }}
{{- fail "sidecar.socketVolume.enabled: only applies to mode: sidecar, where the application shares the pod; set it to false" }}
{{- end }}
{{- include "tlsproxy.checkSocketEndpoints" . }}
{{- if and .Values.certManager.enabled (not .Values.certManager.issuerRef.name) }}
{{- fail "certManager.issuerRef.name: empty; name the Issuer or ClusterIssuer that signs the proxy's certificate" }}
{{- end }}
{{- end }}

{{/* A socket file endpoint is reachable only in the directory the proxy shares with the application: one
elsewhere would fail every connection at run time, so it fails the render. Abstract names (unix:@name) need no
volume: a pod's containers share its network namespace, which abstract sockets belong to. */}}
{{- define "tlsproxy.checkSocketEndpoints" -}}
{{- $key := "listeners" }}
{{- $listeners := .Values.listeners }}
{{- if .Values.config }}
{{- $listeners = .Values.config.listeners | default list }}
{{- $key = "config.listeners" }}
{{- end }}
{{- $dir := "" }}
{{- if include "tlsproxy.socketVolume" . }}
{{- $dir = printf "%s/" .Values.sidecar.socketVolume.mountPath }}
{{- end }}
{{- range $i, $l := $listeners }}
{{- $upstreams := list }}
{{- with $l.upstream }}{{ $upstreams = append $upstreams . }}{{ end }}
{{- range $l.routes }}{{ with .upstream }}{{ $upstreams = append $upstreams . }}{{ end }}{{ end }}
{{- range $upstreams }}
{{- range .endpoints }}
{{- $endpoint := toString . }}
{{- if and (hasPrefix "unix:/" $endpoint) (not (and $dir (hasPrefix (printf "unix:%s" $dir) $endpoint))) }}
{{- if $dir }}
{{- fail (printf "%s[%d] (%s): endpoint %s is outside sidecar.socketVolume.mountPath %s, the one directory the proxy shares with the application; put the socket there" $key $i (toString $l.name) $endpoint (trimSuffix "/" $dir)) }}
{{- else }}
{{- fail (printf "%s[%d] (%s): endpoint %s is a socket file, which the proxy reaches only in a directory it shares with the application; set sidecar.socketVolume.enabled: true (mode: sidecar) and put the socket under its mountPath" $key $i (toString $l.name) $endpoint) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Sidecar isolation: a listener that requires client certificates protects nothing if the application it
forwards to can also be reached on its own port. An application container that declares that port as a
containerPort most likely listens on all interfaces, where any pod can reach it without a certificate. */}}
{{- define "tlsproxy.checkAppPortNotExposed" -}}
{{- $declared := dict }}
{{- range $i, $c := .Values.sidecar.containers }}
{{- range $c.ports }}
{{- $_ := set $declared (toString (int .containerPort)) (printf "sidecar.containers[%d] (%s)" $i $c.name) }}
{{- end }}
{{- end }}
{{- $listeners := list }}
{{- $key := "listeners" }}
{{- if .Values.config }}
{{- $listeners = .Values.config.listeners | default list }}
{{- $key = "config.listeners" }}
{{- else }}
{{- $listeners = .Values.listeners }}
{{- end }}
{{- range $i, $l := $listeners }}
{{- if eq (toString (dig "tls" "clientAuth" "" $l)) "required" }}
{{- $upstreams := list }}
{{- with $l.upstream }}{{ $upstreams = append $upstreams . }}{{ end }}
{{- range $l.routes }}{{ with .upstream }}{{ $upstreams = append $upstreams . }}{{ end }}{{ end }}
{{- range $upstreams }}
{{- range .endpoints }}
{{- $endpoint := toString . }}
{{- $port := regexFind "[0-9]+$" $endpoint }}
{{- $host := trimSuffix (printf ":%s" $port) $endpoint }}
{{- if and $port (regexMatch "^(127\\.[0-9.]+|localhost|\\[::1\\])$" $host) (hasKey $declared $port) }}
{{- fail (printf "%s[%d] (%s) requires client certificates (tls.clientAuth: required) and forwards to %s, which %s also declares as containerPort %s: if the application listens on all interfaces, any pod reaches it there without a certificate. Make it listen on 127.0.0.1 only and remove that containerPort from sidecar.containers, or set sidecar.allowAppPortExposure: true if the port is protected otherwise (e.g. networkPolicy.enabled)" $key $i (toString $l.name) $endpoint (get $declared $port) $port) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when the ServiceMonitor renders: enabled, and the cluster serves its API or skipApiCheck says to
render it anyway (helm template without --api-versions, the CRD installed with the same release). */}}
{{- define "tlsproxy.serviceMonitor" -}}
{{- $sm := .Values.metrics.serviceMonitor }}
{{- if and $sm.enabled (or $sm.skipApiCheck (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor")) }}true{{ end }}
{{- end }}

{{/* "true" when the cert-manager Certificate renders: enabled, and the cluster serves its API or skipApiCheck
says to render it anyway. */}}
{{- define "tlsproxy.certificate" -}}
{{- $cm := .Values.certManager }}
{{- if and $cm.enabled (or $cm.skipApiCheck (.Capabilities.APIVersions.Has "cert-manager.io/v1/Certificate")) }}true{{ end }}
{{- end }}
