{{/* The release's name prefix, at most 63 characters with a service suffix. */}}
{{- define "dualreport.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dualreport.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/part-of: dualreport
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels of one service: (dict "root" $ "name" "registry"). */}}
{{- define "dualreport.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "dualreport.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dualreport.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository@digest when a digest is given (immutable), else repository:tag. */}}
{{- define "dualreport.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* A service's settings: `default` with the service's own entry over it. */}}
{{- define "dualreport.service" -}}
{{- $svc := mergeOverwrite (deepCopy .root.Values.default) (deepCopy .svc) -}}
{{- toYaml $svc -}}
{{- end -}}

{{/* One TOML value: strings quoted, whole numbers without ".0" (Helm reads every
number as a float), lists inline. */}}
{{- define "dualreport.tomlValue" -}}
{{- if kindIs "string" . -}}{{ toJson . }}
{{- else if kindIs "bool" . -}}{{ . }}
{{- else if kindIs "float64" . -}}{{ if eq . (floor .) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else if kindIs "slice" . -}}[{{ range $i, $v := . }}{{ if $i }}, {{ end }}{{ include "dualreport.tomlValue" $v }}{{ end }}]
{{- else -}}{{ . }}
{{- end -}}
{{- end -}}

{{/* config.toml of one service: (dict "root" $ "name" "scoring" "svc" $svc).
Sections are `section: {key: value}`; `svc.config` adds or overrides keys. */}}
{{- define "dualreport.config" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $auth := dict "jwks_file" "/etc/dualreport/auth/jwks.json" -}}
{{- with $root.Values.auth.issuer }}{{ $_ := set $auth "issuer" . }}{{ end -}}
{{- with $root.Values.auth.audience }}{{ $_ := set $auth "audience" . }}{{ end -}}
{{- if $svc.peers }}{{ $_ := set $auth "service_token_file" "/etc/dualreport/service-token/token" }}{{ end -}}
{{- $server := dict "host" "0.0.0.0" "port" $svc.grpcPort "metrics_port" $svc.metricsPort "request_timeout_ms" $svc.requestTimeoutMs "concurrency_limit" $svc.concurrencyLimit -}}
{{- $tls := $root.Values.tls -}}
{{- if $tls.enabled -}}
{{- $serverTls := dict "cert_file" "/etc/dualreport/tls/tls.crt" "key_file" "/etc/dualreport/tls/tls.key" -}}
{{- if $tls.mutual }}{{ $_ := set $serverTls "client_ca_file" "/etc/dualreport/tls/ca.crt" }}{{ end -}}
{{- $_ := set $server "tls" $serverTls -}}
{{- end -}}
{{- $policy := mergeOverwrite (dict "preset" $root.Values.policy.preset) (deepCopy $root.Values.policy.overrides) -}}
{{- $config := dict
  "server" $server
  "database" (dict "max_connections" $root.Values.database.maxConnections "url_file" "/etc/dualreport/database/url")
  "telemetry" (dict "log_format" $root.Values.telemetry.logFormat "log_level" $root.Values.telemetry.logLevel)
  "auth" $auth
  "policy" $policy -}}
{{- if eq .name "registry" -}}
{{- $_ := set $config "registry" (dict "city_id" $root.Values.district.cityId "city_name" $root.Values.district.cityName "number_prefix" $root.Values.district.numberPrefix "pii_active_key" $root.Values.pii.activeKey "pii_keys_dir" "/etc/dualreport/pii") -}}
{{- end -}}
{{- range $svc.peers -}}
{{- $peer := index $root.Values.services . -}}
{{- $peerConfig := dict "url" (printf "%s://%s-%s:%v" (ternary "https" "http" $tls.enabled) (include "dualreport.fullname" $root) . (int64 $peer.grpcPort)) -}}
{{- if $tls.enabled -}}
{{- $_ := set $peerConfig "tls" (dict "ca_file" "/etc/dualreport/tls/ca.crt" "cert_file" "/etc/dualreport/tls/tls.crt" "key_file" "/etc/dualreport/tls/tls.key") -}}
{{- end -}}
{{- $_ := set $config . $peerConfig -}}
{{- end -}}
{{- $config = mergeOverwrite $config (deepCopy (default (dict) $svc.config)) -}}
{{- range $section, $keys := $config }}
[{{ $section }}]
{{- range $key, $value := $keys }}{{ if not (kindIs "map" $value) }}
{{ $key }} = {{ include "dualreport.tomlValue" $value }}
{{- end }}{{ end }}
{{- range $key, $value := $keys }}{{ if kindIs "map" $value }}
[{{ $section }}.{{ $key }}]
{{- range $k, $v := $value }}
{{ $k }} = {{ include "dualreport.tomlValue" $v }}
{{- end }}
{{- end }}{{ end }}
{{ end -}}
{{- end -}}

{{/* The restricted pod security context every pod runs with. */}}
{{- define "dualreport.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "dualreport.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Secret volumes shared by a service's Deployment and its migration Job: the
database URL as a file, and (registry) the personal-information keys as a directory. */}}
{{- define "dualreport.secretVolumes" -}}
- name: database
  secret:
    secretName: {{ .root.Values.database.existingSecret }}
    items:
      - key: {{ .name }}-url
        path: url
{{- if eq .name "registry" }}
- name: pii
  secret:
    secretName: {{ .root.Values.pii.existingSecret }}
{{- end }}
{{- end -}}

{{- define "dualreport.secretMounts" -}}
- name: database
  mountPath: /etc/dualreport/database
  readOnly: true
{{- if eq .name "registry" }}
- name: pii
  mountPath: /etc/dualreport/pii
  readOnly: true
{{- end }}
{{- end -}}

{{/* The TLS Secret of a service: (dict "root" $ "name" "registry"). */}}
{{- define "dualreport.tlsSecret" -}}
{{- printf "%s-%s-tls" (include "dualreport.fullname" .root) .name -}}
{{- end -}}

{{/* `probe` arguments for a service, with TLS flags when TLS is on. */}}
{{- define "dualreport.probeArgs" -}}
- probe
- --url
- {{ .url }}
{{- with .service }}
- --service
- {{ . }}
{{- end }}
{{- if .root.Values.tls.enabled }}
- --ca-file
- /etc/dualreport/tls/ca.crt
{{- if .root.Values.tls.mutual }}
- --cert-file
- /etc/dualreport/tls/tls.crt
- --key-file
- /etc/dualreport/tls/tls.key
{{- end }}
{{- with .domain }}
- --domain
- {{ . }}
{{- end }}
{{- end }}
{{- end -}}
