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

{{/* A service's ServiceAccount: (dict "root" $ "name" "registry"). One per
service when the chart creates them (least privilege: a cloud identity bound to
one is bound to that service alone); else `serviceAccount.name` or "default". */}}
{{- define "dualreport.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- printf "%s-%s" (include "dualreport.fullname" .root) .name -}}
{{- else -}}
{{- default "default" .root.Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount of a service's migration Job. Pre-install hooks run
before the release's own objects exist, so the chart gives the Job a hook
ServiceAccount of its own, created just before it (a lower hook weight). */}}
{{- define "dualreport.migrationServiceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- printf "%s-%s-migrate" (include "dualreport.fullname" .root) .name -}}
{{- else -}}
{{- default "default" .root.Values.serviceAccount.name -}}
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

{{/* A TOML key: bare when it can be, else a quoted string. */}}
{{- define "dualreport.tomlKey" -}}
{{- if regexMatch "^[A-Za-z0-9_-]+$" . }}{{ . }}{{ else }}{{ toJson . }}{{ end -}}
{{- end -}}

{{/* One TOML value: strings quoted, whole numbers without ".0" (Helm reads every
number as a float), lists inline (of any depth); a map inside a list, which
TOML cannot write inline here, is written as an inline table. */}}
{{- define "dualreport.tomlValue" -}}
{{- if kindIs "string" . -}}{{ toJson . }}
{{- else if kindIs "bool" . -}}{{ . }}
{{- else if kindIs "float64" . -}}{{ if eq . (floor .) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else if or (kindIs "int" .) (kindIs "int64" .) -}}{{ . }}
{{- else if kindIs "slice" . -}}[{{ range $i, $v := . }}{{ if $i }}, {{ end }}{{ include "dualreport.tomlValue" $v }}{{ end }}]
{{- else if kindIs "map" . -}}{ {{- range $i, $k := keys . | sortAlpha }}{{ if $i }}, {{ end }}{{ include "dualreport.tomlKey" $k }} = {{ include "dualreport.tomlValue" (index $ $k) }}{{ end -}} }
{{- else if kindIs "invalid" . -}}{{ fail "config: TOML has no null; leave the key out instead" }}
{{- else -}}{{ fail (printf "config: cannot write %v (%s) as TOML" . (kindOf .)) }}
{{- end -}}
{{- end -}}

{{/* A TOML table of any depth: (dict "path" "server" "table" $map "array" false).
Plain keys first, then each sub-table as [path.key] and each list of maps as
[[path.key]], recursively, so any values tree renders as valid TOML. */}}
{{- define "dualreport.tomlTable" -}}
{{- $path := .path -}}
{{- $table := .table }}
{{ if .array }}[[{{ $path }}]]{{ else }}[{{ $path }}]{{ end }}
{{- range $key := keys $table | sortAlpha }}
{{- $value := index $table $key }}
{{- if not (or (kindIs "map" $value) (include "dualreport.isTableList" $value)) }}
{{ include "dualreport.tomlKey" $key }} = {{ include "dualreport.tomlValue" $value }}
{{- end }}
{{- end }}
{{- range $key := keys $table | sortAlpha }}
{{- $value := index $table $key }}
{{- $sub := printf "%s.%s" $path (include "dualreport.tomlKey" $key) }}
{{- if kindIs "map" $value }}
{{- include "dualreport.tomlTable" (dict "path" $sub "table" $value "array" false) }}
{{- else if include "dualreport.isTableList" $value }}
{{- range $value }}
{{- include "dualreport.tomlTable" (dict "path" $sub "table" . "array" true) }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* "true" for a non-empty list whose items are all maps (an array of tables). */}}
{{- define "dualreport.isTableList" -}}
{{- if and (kindIs "slice" .) (gt (len .) 0) -}}
{{- $all := true -}}
{{- range . }}{{ if not (kindIs "map" .) }}{{ $all = false }}{{ end }}{{ end -}}
{{- if $all }}true{{ end -}}
{{- end -}}
{{- end -}}

{{/* config.toml of one service: (dict "root" $ "name" "scoring" "svc" $svc).
Sections are `section: {key: value}`; `svc.config` adds or overrides keys. */}}
{{/* The `[auth]` section every binary of a release reads: the identity
provider's JWKS (mounted), and its issuer and audience when set. */}}
{{- define "dualreport.authConfig" -}}
jwks_file: /etc/dualreport/auth/jwks.json
{{- with .Values.auth.issuer }}
issuer: {{ . | quote }}
{{- end }}
{{- with .Values.auth.audience }}
audience: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The client TLS files a binary calls its peers with (`tls.enabled`). */}}
{{- define "dualreport.peerTls" -}}
ca_file: /etc/dualreport/tls/ca.crt
cert_file: /etc/dualreport/tls/tls.crt
key_file: /etc/dualreport/tls/tls.key
{{- end -}}

{{- define "dualreport.config" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $auth := include "dualreport.authConfig" $root | fromYaml -}}
{{- if include "dualreport.callsOut" (dict "root" $root "name" .name "svc" $svc) }}{{ $_ := set $auth "service_token_file" "/etc/dualreport/service-token/token" }}{{ end -}}
{{- $server := dict "host" "0.0.0.0" "port" $svc.grpcPort "metrics_port" $svc.metricsPort "request_timeout_ms" $svc.requestTimeoutMs -}}
{{- if not (kindIs "invalid" $svc.concurrencyLimit) }}{{ $_ := set $server "concurrency_limit" $svc.concurrencyLimit }}{{ end -}}
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
{{- with $root.Values.cityTier.url -}}
{{- $city := dict "url" . -}}
{{- if $tls.enabled -}}
{{- $_ := set $city "tls" (include "dualreport.peerTls" . | fromYaml) -}}
{{- end -}}
{{- $_ := set $config "city" $city -}}
{{- end -}}
{{- end -}}
{{- if eq .name "volunteering" -}}
{{- /* Certificate numbers carry the district's prefix, so they are unique across the city. */ -}}
{{- $_ := set $config "certificates" (dict "number_prefix" (printf "%s-FW" $root.Values.district.numberPrefix)) -}}
{{- end -}}
{{- if eq .name "city" -}}
{{- $t := $root.Values.cityTier -}}
{{- $_ := set $config "city" (dict "city_id" $root.Values.district.cityId "poll_interval_ms" $t.pollIntervalMs "batch_size" $t.batchSize "lease_ms" $t.leaseMs) -}}
{{- $districts := dict -}}
{{- range $district, $urls := $t.districts -}}
{{- $peers := dict -}}
{{- range $service := list "registry" "volunteering" "scoring" "feedback" -}}
{{- $peer := dict "url" (index $urls $service) -}}
{{- if $tls.enabled -}}
{{- $_ := set $peer "tls" (include "dualreport.peerTls" . | fromYaml) -}}
{{- end -}}
{{- $_ := set $peers $service $peer -}}
{{- end -}}
{{- $_ := set $districts $district $peers -}}
{{- end -}}
{{- $_ := set $config "districts" $districts -}}
{{- end -}}
{{- range $svc.peers -}}
{{- $peer := index $root.Values.services . -}}
{{- $peerConfig := dict "url" (printf "%s://%s-%s:%v" (ternary "https" "http" $tls.enabled) (include "dualreport.fullname" $root) . (int64 $peer.grpcPort)) -}}
{{- if $tls.enabled -}}
{{- $_ := set $peerConfig "tls" (include "dualreport.peerTls" . | fromYaml) -}}
{{- end -}}
{{- $_ := set $config . $peerConfig -}}
{{- end -}}
{{- $config = mergeOverwrite $config (deepCopy (default (dict) $svc.config)) -}}
{{- range $section := keys $config | sortAlpha }}
{{- include "dualreport.tomlTable" (dict "path" (include "dualreport.tomlKey" $section) "table" (index $config $section) "array" false) }}
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

{{/* What the values schema cannot say (it sees one value at a time): checks
across values of one service, after `default` and its own entry are merged.
(dict "root" $ "name" "registry" "svc" $svc); renders nothing or fails. */}}
{{- define "dualreport.validate" -}}
{{- $svc := .svc -}}
{{- $where := printf "services.%s (merged over default)" .name -}}
{{- if and $svc.autoscaling.enabled (gt (int $svc.autoscaling.minReplicas) (int $svc.autoscaling.maxReplicas)) -}}
{{- fail (printf "%s: autoscaling.minReplicas %v is above maxReplicas %v" $where $svc.autoscaling.minReplicas $svc.autoscaling.maxReplicas) -}}
{{- end -}}
{{- $replicas := int (ternary $svc.autoscaling.minReplicas $svc.replicas $svc.autoscaling.enabled) -}}
{{- $pdb := $svc.podDisruptionBudget -}}
{{- if and $pdb.enabled (gt $replicas 0) -}}
{{- if not (kindIs "invalid" $pdb.minAvailable) -}}
{{- if kindIs "string" $pdb.minAvailable -}}
{{- if eq $pdb.minAvailable "100%" -}}
{{- fail (printf "%s: podDisruptionBudget.minAvailable 100%% would block every node drain" $where) -}}
{{- end -}}
{{- else if ge (int $pdb.minAvailable) $replicas -}}
{{- fail (printf "%s: podDisruptionBudget.minAvailable %v with %v replicas would block every node drain; use fewer or maxUnavailable" $where $pdb.minAvailable $replicas) -}}
{{- end -}}
{{- else if or (kindIs "invalid" $pdb.maxUnavailable) (eq (toString $pdb.maxUnavailable) "0") (eq (toString $pdb.maxUnavailable) "0%") -}}
{{- fail (printf "%s: podDisruptionBudget needs minAvailable below the replicas or maxUnavailable above 0" $where) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The default scheduling of a service's pods when the values give none:
prefer different nodes, spread over zones. (dict "root" $ "name" "registry") */}}
{{- define "dualreport.defaultAffinity" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "dualreport.selector" . | nindent 12 }}
{{- end -}}

{{- define "dualreport.defaultTopologySpread" -}}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "dualreport.selector" . | nindent 6 }}
{{- end -}}

{{/* OTEL_RESOURCE_ATTRIBUTES of every pod: the district (release), its
namespace, the environment, and any extra `telemetry.resourceAttributes`. */}}
{{- define "dualreport.resourceAttributes" -}}
{{- $attrs := dict "service.namespace" .Release.Name "k8s.namespace.name" .Release.Namespace "deployment.environment" .Values.telemetry.environment "dualreport.district" (include "dualreport.districtName" .) -}}
{{- $attrs = merge (deepCopy (default (dict) .Values.telemetry.resourceAttributes)) $attrs -}}
{{- $pairs := list -}}
{{- range $key := keys $attrs | sortAlpha }}{{ $pairs = append $pairs (printf "%s=%s" $key (index $attrs $key)) }}{{ end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* The Grafana dashboard uid of this release: unique per namespace and
release (Grafana allows 40 characters), stable across upgrades. */}}
{{- define "dualreport.dashboardUid" -}}
{{- printf "dualreport-%s" (printf "%s/%s" .Release.Namespace .Release.Name | sha256sum | trunc 16) -}}
{{- end -}}

{{/* "true" when a service renders in this release: enabled, and of the
release's profile (`city`: the city service alone; `district`: every other
one). (dict "root" $ "name" "registry" "entry" $entry). */}}
{{- define "dualreport.active" -}}
{{- if and .entry.enabled (eq (eq .root.Values.profile "city") (eq .name "city")) -}}true{{- end -}}
{{- end -}}

{{/* "true" when a service calls other services and so needs the `service`
token: its peers in the release, the district releases (the city), or the
city tier (a district registry with `cityTier.url`). */}}
{{- define "dualreport.callsOut" -}}
{{- if or .svc.peers (eq .name "city") (and (eq .name "registry") .root.Values.cityTier.url) -}}true{{- end -}}
{{- end -}}

{{/* The district's name in telemetry, series and alerts: `district.name`, else `cityId`. */}}
{{- define "dualreport.districtName" -}}
{{- default .Values.district.cityId .Values.district.name -}}
{{- end -}}
