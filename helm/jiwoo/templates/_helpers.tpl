{{/* Chart name, cut to 63 characters (a DNS label). */}}
{{- define "jiwoo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, cut to 63 characters. */}}
{{- define "jiwoo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The full name of a part of the release (redis, postgresql, promtail...), cut to 63. */}}
{{- define "jiwoo.componentName" -}}
{{- printf "%s-%s" (include "jiwoo.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component }}
{{- end }}

{{- define "jiwoo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels; pass (dict "root" $ "component" "web"). */}}
{{- define "jiwoo.labels" -}}
helm.sh/chart: {{ include "jiwoo.chart" .root }}
{{ include "jiwoo.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: jiwoo
{{- end }}

{{/*
Labels for pods that must not restart when the app is upgraded (PostgreSQL, Redis): no chart
version, no app version. Pass (dict "root" $ "component" "postgresql").
*/}}
{{- define "jiwoo.stableLabels" -}}
{{ include "jiwoo.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: jiwoo
{{- end }}

{{/* Selector labels: name, instance and the component, nothing that changes on upgrade. */}}
{{- define "jiwoo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jiwoo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "jiwoo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "jiwoo.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository@digest when a digest is given (the tag is then only informative), else repository:tag. */}}
{{- define "jiwoo.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
A name for a cluster-scoped object (ClusterRole, ClusterRoleBinding): the same release name
in two namespaces must not collide, so the namespace is part of it. Cut to 63 with a hash
of the whole name, so two long names never cut to the same string.
Pass (dict "root" $ "component" "promtail").
*/}}
{{- define "jiwoo.clusterScopedName" -}}
{{- $name := printf "%s-%s" .root.Release.Namespace (include "jiwoo.componentName" .) }}
{{- if le (len $name) 63 }}
{{- $name }}
{{- else }}
{{- printf "%s-%s" ($name | trunc 54 | trimSuffix "-") ($name | sha256sum | trunc 8) }}
{{- end }}
{{- end }}

{{/*
A secret value that is generated once and then kept: the value already in the cluster's
Secret if there is one (lookup), else a new random one. Offline rendering (helm template,
Argo CD, the tests) has no cluster, so lookup finds nothing there and a new value is made on
every render: with gitops=true the chart refuses to generate (see jiwoo.validateValues).
Pass (dict "root" $ "secret" "<name>" "key" "<key>" "length" 50).
*/}}
{{- define "jiwoo.keptSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key }}
{{- else }}
{{- randAlphaNum (int .length) | b64enc }}
{{- end }}
{{- end }}

{{/* Refuse contradictory or incomplete values, with a message that says what to set. */}}
{{- define "jiwoo.validateValues" -}}
{{- if and .Values.promtail.enabled .Values.alloy.enabled }}
{{- fail "promtail.enabled and alloy.enabled are mutually exclusive: both would ship every log line to Loki. Enable one." }}
{{- end }}
{{- if and (not .Values.postgresql.enabled) (not .Values.externalDatabase.url) (not .Values.externalDatabase.existingSecret) }}
{{- fail "postgresql.enabled is false: set externalDatabase.url or externalDatabase.existingSecret." }}
{{- end }}
{{- if and (not .Values.redis.enabled) (not .Values.externalRedis.url) (not .Values.externalRedis.existingSecret) }}
{{- fail "redis.enabled is false: set externalRedis.url or externalRedis.existingSecret." }}
{{- end }}
{{- if and (or .Values.promtail.enabled .Values.alloy.enabled) (not .Values.loki.url) }}
{{- fail "A log shipper is enabled: set loki.url, e.g. http://loki-gateway.monitoring/loki/api/v1/push." }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%v) is above autoscaling.maxReplicas (%v): the HorizontalPodAutoscaler would be refused. Lower minReplicas or raise maxReplicas." .Values.autoscaling.minReplicas .Values.autoscaling.maxReplicas) }}
{{- end }}
{{- /* The schema's patterns, again: with --skip-schema-validation a bad entry would otherwise only fail in the app's settings, as a crash loop. */}}
{{- $ipv4 := `^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}(/(3[0-2]|[12]?[0-9]))?$` }}
{{- $hex := `[0-9A-Fa-f]{1,4}` }}
{{- $ipv6 := printf `^((%[1]s:){7}%[1]s|(%[1]s:){1,7}:|(%[1]s:){1,6}:%[1]s|(%[1]s:){1,5}(:%[1]s){1,2}|(%[1]s:){1,4}(:%[1]s){1,3}|(%[1]s:){1,3}(:%[1]s){1,4}|(%[1]s:){1,2}(:%[1]s){1,5}|%[1]s:(:%[1]s){1,6}|:((:%[1]s){1,7}|:))(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?$` $hex }}
{{- range .Values.django.trustedProxies }}
{{- if not (or (regexMatch $ipv4 (toString .)) (regexMatch $ipv6 (toString .))) }}
{{- fail (printf "django.trustedProxies: %q is not an IPv4 or IPv6 address or CIDR network (e.g. 10.244.0.0/16, 192.0.2.7, fd00::/8)." (toString .)) }}
{{- end }}
{{- end }}
{{- if .Values.gitops }}
{{- /* Rendered without a cluster, lookup finds nothing: a generated credential would change on every sync. */}}
{{- $missing := list }}
{{- if not .Values.secretKey.existingSecret }}
{{- $missing = append $missing "secretKey.existingSecret (key secret-key, or secretKey.existingSecretKey)" }}
{{- end }}
{{- if and .Values.postgresql.enabled (not .Values.postgresql.auth.existingSecret) (not .Values.postgresql.auth.password) }}
{{- $missing = append $missing "postgresql.auth.existingSecret (or postgresql.auth.password)" }}
{{- end }}
{{- if and .Values.redis.enabled .Values.redis.auth.enabled (not .Values.redis.auth.existingSecret) (not .Values.redis.auth.password) }}
{{- $missing = append $missing "redis.auth.existingSecret (or redis.auth.password)" }}
{{- end }}
{{- if $missing }}
{{- fail (printf "gitops is true: the chart is rendered without cluster access (Argo CD, helm template), where a generated secret would change on every render and lock the app out of its database and log everyone out. Create the Secrets once and set: %s." (join "; " $missing)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The pods' checksum/secret annotation: it changes when a credential given in the values changes
(so the pods restart with it) and stays the same on an upgrade with the same values. Anyone
who can read pods can read it, so a password never goes into it as it is, where a guess could
be checked offline: it is hashed after a random salt that only the chart's Secret holds
(jiwoo.checksumSalt). Under gitops there is no lookup to keep a salt with, so the passwords are
left out: after changing one there, restart the pods (README, "Upgrades and changes after install").
*/}}
{{- define "jiwoo.secretChecksum" -}}
{{- $inputs := list .Values.secretKey }}
{{- range list .Values.externalDatabase .Values.externalRedis .Values.redis.auth .Values.postgresql.auth }}
{{- $inputs = append $inputs (ternary (omit . "password") . $.Values.gitops) }}
{{- end }}
{{- $inputs = append $inputs .Values.admin }}
{{- if eq (include "jiwoo.needsChecksumSalt" .) "true" }}
{{- printf "%s\n%s" (include "jiwoo.checksumSalt" .) ($inputs | toJson) | sha256sum }}
{{- else }}
{{- $inputs | toJson | sha256sum }}
{{- end }}
{{- end }}

{{/* A password is given in the values (and lookup can keep a salt): the checksum is salted. */}}
{{- define "jiwoo.needsChecksumSalt" -}}
{{- $v := .Values }}
{{- if and (not $v.gitops) (or $v.externalDatabase.password $v.externalRedis.password $v.redis.auth.password $v.postgresql.auth.password) }}true{{ end }}
{{- end }}

{{/*
The salt, generated once and kept in the chart's Secret (key checksum-salt). The Deployment and
the Secret are rendered from one value: generated twice on install, the pods would carry a hash
of a salt the Secret does not hold, and the first upgrade would restart them for nothing.
*/}}
{{- define "jiwoo.checksumSalt" -}}
{{- if not (hasKey .Values "jiwooChecksumSaltOfThisRender") }}
{{- $_ := set .Values "jiwooChecksumSaltOfThisRender" (include "jiwoo.keptSecretValue" (dict "root" . "secret" (include "jiwoo.secretName" .) "key" "checksum-salt" "length" 32)) }}
{{- end }}
{{- index .Values "jiwooChecksumSaltOfThisRender" }}
{{- end }}

{{/* The app's Secret: the chart's own, holding what no existingSecret provides. */}}
{{- define "jiwoo.secretName" -}}
{{- include "jiwoo.fullname" . }}
{{- end }}

{{/* In-chart service host names. */}}
{{- define "jiwoo.redisHost" -}}
{{- include "jiwoo.componentName" (dict "root" . "component" "redis") }}
{{- end }}
{{- define "jiwoo.postgresqlHost" -}}
{{- include "jiwoo.componentName" (dict "root" . "component" "postgresql") }}
{{- end }}

{{- define "jiwoo.redisSecretName" -}}
{{- default (include "jiwoo.componentName" (dict "root" . "component" "redis")) .Values.redis.auth.existingSecret }}
{{- end }}
{{- define "jiwoo.postgresqlSecretName" -}}
{{- default (include "jiwoo.componentName" (dict "root" . "component" "postgresql")) .Values.postgresql.auth.existingSecret }}
{{- end }}

{{/*
Environment for the database, Redis and secret key, shared by every app container (the web
server, the migration init container, the clearsessions job). URLs never carry a password:
passwords come from Secrets in DATABASE_PASSWORD and REDIS_PASSWORD, which the settings use
as they are, so no character of a password needs URL-encoding and none is written into a
ConfigMap or the pod spec.
*/}}
{{- define "jiwoo.connectionEnv" -}}
{{- $chartSecret := include "jiwoo.secretName" . }}
- name: DJANGO_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ default $chartSecret .Values.secretKey.existingSecret }}
      key: {{ ternary .Values.secretKey.existingSecretKey "secret-key" (not (empty .Values.secretKey.existingSecret)) }}
{{- if .Values.postgresql.enabled }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s@%s:5432/%s" .Values.postgresql.auth.username (include "jiwoo.postgresqlHost" .) .Values.postgresql.auth.database | quote }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "jiwoo.postgresqlSecretName" . }}
      key: {{ .Values.postgresql.auth.existingSecretKey }}
{{- else }}
{{- with .Values.externalDatabase }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ ternary $chartSecret .existingSecret (not (empty .url)) }}
      key: {{ ternary "database-url" .existingSecretKey (not (empty .url)) }}
{{- if or .password (and .existingSecret .existingSecretPasswordKey) }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ ternary $chartSecret .existingSecret (not (empty .password)) }}
      key: {{ ternary "database-password" .existingSecretPasswordKey (not (empty .password)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.redis.enabled }}
- name: REDIS_URL
  value: {{ printf "redis://%s:6379/0" (include "jiwoo.redisHost" .) | quote }}
{{- if .Values.redis.auth.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "jiwoo.redisSecretName" . }}
      key: {{ .Values.redis.auth.existingSecretKey }}
{{- end }}
{{- else }}
{{- with .Values.externalRedis }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ ternary $chartSecret .existingSecret (not (empty .url)) }}
      key: {{ ternary "redis-url" .existingSecretKey (not (empty .url)) }}
{{- if or .password (and .existingSecret .existingSecretPasswordKey) }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ ternary $chartSecret .existingSecret (not (empty .password)) }}
      key: {{ ternary "redis-password" .existingSecretPasswordKey (not (empty .password)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Everything an app container gets: connections, where it runs, and django.extraEnv last. */}}
{{- define "jiwoo.appEnv" -}}
{{ include "jiwoo.connectionEnv" . }}
{{ include "jiwoo.downwardEnv" . }}
{{- with .Values.django.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Proxies whose X-Forwarded-For is trusted: django.trustedProxies, or with the Ingress on and
nothing given, the private networks (the ingress controller's pods are in one of them), so
the client address is the real client's and not the ingress pod's.
*/}}
{{- define "jiwoo.trustedProxies" -}}
{{- if .Values.django.trustedProxies }}
{{- join "," .Values.django.trustedProxies }}
{{- else if .Values.ingress.enabled }}
{{- "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7" }}
{{- end }}
{{- end }}

{{/* The fewest app pods there are: a disruption budget below two would block node drains. */}}
{{- define "jiwoo.minReplicas" -}}
{{- ternary .Values.autoscaling.minReplicas .Values.replicaCount .Values.autoscaling.enabled }}
{{- end }}

{{/* Datasource uids the app's links use: the provisioned datasources', or the stack's own. */}}
{{- define "jiwoo.grafana.lokiUid" -}}
{{- ternary .Values.grafana.datasources.lokiUid .Values.grafana.lokiUid .Values.grafana.datasources.enabled }}
{{- end }}
{{- define "jiwoo.grafana.tempoUid" -}}
{{- ternary .Values.grafana.datasources.tempoUid .Values.grafana.tempoUid .Values.grafana.datasources.enabled }}
{{- end }}

{{/* A ConfigMap for Grafana's sidecar in another namespace carries this release's namespace in its name. */}}
{{- define "jiwoo.grafanaObjectName" -}}
{{- $name := include "jiwoo.componentName" (dict "root" .root "component" .component) }}
{{- if and .namespace (ne .namespace .root.Release.Namespace) }}
{{- printf "%s-%s" .root.Release.Namespace $name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name }}
{{- end }}
{{- end }}

{{/* The pod's place in Kubernetes, for OTEL_RESOURCE_ATTRIBUTES (downward API). */}}
{{- define "jiwoo.downwardEnv" -}}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ include "jiwoo.resourceAttributes" . | quote }}
{{- end }}

{{- define "jiwoo.resourceAttributes" -}}
{{- $attributes := list "k8s.namespace.name=$(K8S_NAMESPACE_NAME)" "k8s.pod.name=$(K8S_POD_NAME)" "k8s.node.name=$(K8S_NODE_NAME)" (printf "deployment.environment.name=%s" .Values.telemetry.environment) }}
{{- range $key, $value := .Values.telemetry.resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%s" $key (toString $value)) }}
{{- end }}
{{- join "," $attributes }}
{{- end }}

{{/*
The log pipeline both shippers run, declared once: which JSON fields are extracted, which
become Loki labels (few, low cardinality) and which structured metadata (per request).
*/}}
{{- define "jiwoo.pipeline.jsonFields" -}}
{{- list "level" "service_name" "trace_id" "span_id" "user" "event" "timestamp" | toJson }}
{{- end }}
{{- define "jiwoo.pipeline.labels" -}}
{{- list "level" "service_name" | toJson }}
{{- end }}
{{- define "jiwoo.pipeline.structuredMetadata" -}}
{{- list "trace_id" "span_id" "user" "pod" | toJson }}
{{- end }}
{{/* Labels the shippers drop: pod is moved to structured metadata, filename is per-pod. */}}
{{- define "jiwoo.pipeline.droppedLabels" -}}
{{- list "pod" "filename" | toJson }}
{{- end }}

{{/*
Loki names a stream without a service_name label after its `app` label, which is the chart's
name on every pod of the release: PostgreSQL's, Redis' and the shipper's lines would count as
the app's. The shippers give this release's pods a service_name of their own: the app's
(telemetry.serviceName, which its JSON lines carry anyway) for the web pods, <fullname>-<component>
for the others. Each is a regex over "namespace;instance;name;component" and its replacement.
*/}}
{{- define "jiwoo.pipeline.serviceNames" -}}
{{- $release := printf "%s;%s;%s" (regexQuoteMeta .Release.Namespace) (regexQuoteMeta .Release.Name) (regexQuoteMeta (include "jiwoo.name" .)) }}
{{- list
  (dict "regex" (printf "%s;(.+)" $release) "replacement" (printf "%s-$1" (include "jiwoo.fullname" .)))
  (dict "regex" (printf "%s;web" $release) "replacement" (.Values.telemetry.serviceName | replace "$" "$$"))
  | toJson }}
{{- end }}
{{- define "jiwoo.pipeline.serviceNameSources" -}}
{{- list "__meta_kubernetes_namespace" "__meta_kubernetes_pod_label_app_kubernetes_io_instance" "__meta_kubernetes_pod_label_app_kubernetes_io_name" "__meta_kubernetes_pod_label_app_kubernetes_io_component" | toJson }}
{{- end }}

{{/* Namespaces whose pods the shipper reads: this release's unless told otherwise. */}}
{{- define "jiwoo.logNamespaces" -}}
{{- if .Values.loki.namespaces }}
{{- toJson .Values.loki.namespaces }}
{{- else }}
{{- list .Release.Namespace | toJson }}
{{- end }}
{{- end }}

{{- define "jiwoo.lokiSecretName" -}}
{{- default (include "jiwoo.componentName" (dict "root" . "component" "loki-auth")) .Values.loki.basicAuth.existingSecret }}
{{- end }}
