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

{{- define "jiwoo.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
A secret value that is generated once and then kept: the value already in the cluster's
Secret if there is one (lookup), else a new random one. Offline rendering (helm template,
the tests) has no cluster, so lookup finds nothing there and a new value is made.
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
Environment for the database, Redis and secret key, shared by the app and the migration Job.
In-chart passwords come from their Secrets and are put into the URLs by Kubernetes' $(VAR)
expansion, so no password is ever written into a ConfigMap or the pod spec.
*/}}
{{- define "jiwoo.connectionEnv" -}}
- name: DJANGO_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ default (include "jiwoo.secretName" .) .Values.secretKey.existingSecret }}
      key: {{ ternary .Values.secretKey.existingSecretKey "secret-key" (not (empty .Values.secretKey.existingSecret)) }}
{{- if .Values.postgresql.enabled }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "jiwoo.postgresqlSecretName" . }}
      key: {{ .Values.postgresql.auth.existingSecretKey }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s:$(DATABASE_PASSWORD)@%s:5432/%s" .Values.postgresql.auth.username (include "jiwoo.postgresqlHost" .) .Values.postgresql.auth.database | quote }}
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ default (include "jiwoo.secretName" .) .Values.externalDatabase.existingSecret }}
      key: {{ ternary .Values.externalDatabase.existingSecretKey "database-url" (not (empty .Values.externalDatabase.existingSecret)) }}
{{- end }}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "jiwoo.redisSecretName" . }}
      key: {{ .Values.redis.auth.existingSecretKey }}
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "jiwoo.redisHost" .) | quote }}
{{- else }}
- name: REDIS_URL
  value: {{ printf "redis://%s:6379/0" (include "jiwoo.redisHost" .) | quote }}
{{- end }}
{{- else }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ default (include "jiwoo.secretName" .) .Values.externalRedis.existingSecret }}
      key: {{ ternary .Values.externalRedis.existingSecretKey "redis-url" (not (empty .Values.externalRedis.existingSecret)) }}
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
