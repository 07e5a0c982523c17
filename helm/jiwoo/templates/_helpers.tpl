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
{{- if and (not .Values.postgresql.enabled) (not .Values.externalDatabase.url) (not .Values.externalDatabase.urlFile) (not .Values.externalDatabase.existingSecret) }}
{{- fail "postgresql.enabled is false: set externalDatabase.url, externalDatabase.urlFile or externalDatabase.existingSecret." }}
{{- end }}
{{- if and (not .Values.redis.enabled) (not .Values.externalRedis.url) (not .Values.externalRedis.urlFile) (not .Values.externalRedis.existingSecret) }}
{{- fail "redis.enabled is false: set externalRedis.url, externalRedis.urlFile or externalRedis.existingSecret." }}
{{- end }}
{{- /* A credential given twice: the app refuses a variable beside its _FILE, the chart says which values. */}}
{{- $twice := list }}
{{- if and .Values.secretKey.file .Values.secretKey.existingSecret }}{{ $twice = append $twice "secretKey.file and secretKey.existingSecret" }}{{ end }}
{{- if not .Values.postgresql.enabled }}
{{- with .Values.externalDatabase }}
{{- if and .url .urlFile }}{{ $twice = append $twice "externalDatabase.url and .urlFile" }}{{ end }}
{{- if and .password .passwordFile }}{{ $twice = append $twice "externalDatabase.password and .passwordFile" }}{{ end }}
{{- if and .migrationUrl .migrationUrlFile }}{{ $twice = append $twice "externalDatabase.migrationUrl and .migrationUrlFile" }}{{ end }}
{{- end }}
{{- end }}
{{- if not .Values.redis.enabled }}
{{- with .Values.externalRedis }}
{{- if and .url .urlFile }}{{ $twice = append $twice "externalRedis.url and .urlFile" }}{{ end }}
{{- if and .password .passwordFile }}{{ $twice = append $twice "externalRedis.password and .passwordFile" }}{{ end }}
{{- end }}
{{- end }}
{{- if and .Values.admin.existingSecret (or .Values.admin.username .Values.admin.passwordFile) }}{{ $twice = append $twice "admin.existingSecret and admin.username/passwordFile" }}{{ end }}
{{- if $twice }}
{{- fail (printf "Each credential comes from one place; these name two: %s. Keep one of each." (join "; " $twice)) }}
{{- end }}
{{- if and (not .Values.admin.existingSecret) (ne (empty .Values.admin.username) (empty .Values.admin.passwordFile)) }}
{{- fail "admin.username and admin.passwordFile go together: the superuser is created with both (or set admin.existingSecret)." }}
{{- end }}
{{- /* A file the operator names must be in a volume the app containers mount. */}}
{{- range include "jiwoo.credentials" (dict "root" . "migrate" true) | fromJsonArray }}
{{- if not .item }}
{{- $path := .path }}
{{- $mounted := false }}
{{- range $.Values.extraVolumeMounts }}
{{- if hasPrefix (printf "%s/" (trimSuffix "/" .mountPath)) $path }}{{ $mounted = true }}{{ end }}
{{- end }}
{{- if not $mounted }}
{{- fail (printf "%s_FILE would be %s, which is under none of extraVolumeMounts: mount the volume that holds it (extraVolumes and extraVolumeMounts, e.g. Key Vault's CSI driver) at a directory above it." .env $path) }}
{{- end }}
{{- end }}
{{- end }}
{{- $volumes := list "tmp" "credentials" "migrate-credentials" }}
{{- range .Values.extraVolumes }}{{ $volumes = append $volumes .name }}{{ end }}
{{- range .Values.extraVolumeMounts }}
{{- if not (has .name $volumes) }}
{{- fail (printf "extraVolumeMounts: %q is not a volume of extraVolumes." .name) }}
{{- end }}
{{- end }}
{{- if and (not .Values.podSecurityContext.fsGroup) (or (include "jiwoo.credentialVolumeName" (dict "root" . "migrate" false)) (include "jiwoo.credentialVolumeName" (dict "root" . "migrate" .Values.migrations.enabled))) }}
{{- fail "podSecurityContext.fsGroup is unset: the credential files the chart mounts (mode 0440) are readable through the pod's fsGroup. Set it (the default is 10001)." }}
{{- end }}
{{- if and .Values.networkPolicy.enabled .Values.ingress.enabled (not .Values.networkPolicy.ingressNamespaces) (not .Values.networkPolicy.extraIngressFrom) }}
{{- fail "networkPolicy.enabled with ingress.enabled: name the ingress controller's namespace in networkPolicy.ingressNamespaces (app-routing-system for AKS application routing, ingress-nginx for ingress-nginx), or its peers in networkPolicy.extraIngressFrom, or the policy would keep the Ingress out." }}
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
{{- if not (or .Values.secretKey.existingSecret .Values.secretKey.file) }}
{{- $missing = append $missing "secretKey.existingSecret (key secret-key, or secretKey.existingSecretKey) or secretKey.file" }}
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

{{/* Where the app containers find the credentials the chart mounts for them. */}}
{{- define "jiwoo.credentialsDir" -}}
/var/run/secrets/jiwoo
{{- end }}

{{/*
The app's credentials: a JSON list of {env, path}, each read by the app from the file named by
<env>_FILE (DJANGO_SECRET_KEY_FILE, DATABASE_PASSWORD_FILE...), never given as an environment
value. One held in a Secret also has {secret, key, item}: the chart projects it into the
credentials volume as the file <item>. One the operator points at a file (secretKey.file,
externalDatabase.passwordFile...) has only its path, in one of extraVolumes (Key Vault's CSI
driver): the chart mounts nothing for it. URLs never carry a password: the password is a file
of its own, so no character of it needs URL-encoding. The in-chart PostgreSQL's and Redis' URLs
hold no credential and are plain values (jiwoo.credentialEnv).
Pass (dict "root" $ "migrate" true) for the migration init container: it reads the direct
migration URL instead of the pooled one when one is given, and the superuser's password.
*/}}
{{- define "jiwoo.credentials" -}}
{{- $v := .root.Values }}
{{- $chart := include "jiwoo.secretName" .root }}
{{- $dir := include "jiwoo.credentialsDir" .root }}
{{- $list := list }}
{{- with $v.secretKey }}
{{- if .file }}
{{- $list = append $list (dict "env" "DJANGO_SECRET_KEY" "path" .file) }}
{{- else if .existingSecret }}
{{- $list = append $list (dict "env" "DJANGO_SECRET_KEY" "secret" .existingSecret "key" .existingSecretKey "item" "secret-key") }}
{{- else }}
{{- $list = append $list (dict "env" "DJANGO_SECRET_KEY" "secret" $chart "key" "secret-key" "item" "secret-key") }}
{{- end }}
{{- end }}
{{- if $v.postgresql.enabled }}
{{- $list = append $list (dict "env" "DATABASE_PASSWORD" "secret" (include "jiwoo.postgresqlSecretName" .root) "key" $v.postgresql.auth.existingSecretKey "item" "database-password") }}
{{- else }}
{{- with $v.externalDatabase }}
{{- $url := dict "env" "DATABASE_URL" "secret" .existingSecret "key" .existingSecretKey "item" "database-url" }}
{{- if .urlFile }}
{{- $url = dict "env" "DATABASE_URL" "path" .urlFile }}
{{- else if .url }}
{{- $url = dict "env" "DATABASE_URL" "secret" $chart "key" "database-url" "item" "database-url" }}
{{- end }}
{{- if and $.migrate .migrationUrlFile }}
{{- $url = dict "env" "DATABASE_URL" "path" .migrationUrlFile }}
{{- else if and $.migrate .migrationUrl }}
{{- $url = dict "env" "DATABASE_URL" "secret" $chart "key" "database-migration-url" "item" "database-migration-url" }}
{{- else if and $.migrate .existingSecret .existingSecretMigrationUrlKey }}
{{- $url = dict "env" "DATABASE_URL" "secret" .existingSecret "key" .existingSecretMigrationUrlKey "item" "database-migration-url" }}
{{- end }}
{{- $list = append $list $url }}
{{- if .passwordFile }}
{{- $list = append $list (dict "env" "DATABASE_PASSWORD" "path" .passwordFile) }}
{{- else if .password }}
{{- $list = append $list (dict "env" "DATABASE_PASSWORD" "secret" $chart "key" "database-password" "item" "database-password") }}
{{- else if and .existingSecret .existingSecretPasswordKey }}
{{- $list = append $list (dict "env" "DATABASE_PASSWORD" "secret" .existingSecret "key" .existingSecretPasswordKey "item" "database-password") }}
{{- end }}
{{- end }}
{{- end }}
{{- if $v.redis.enabled }}
{{- if $v.redis.auth.enabled }}
{{- $list = append $list (dict "env" "REDIS_PASSWORD" "secret" (include "jiwoo.redisSecretName" .root) "key" $v.redis.auth.existingSecretKey "item" "redis-password") }}
{{- end }}
{{- else }}
{{- with $v.externalRedis }}
{{- if .urlFile }}
{{- $list = append $list (dict "env" "REDIS_URL" "path" .urlFile) }}
{{- else if .url }}
{{- $list = append $list (dict "env" "REDIS_URL" "secret" $chart "key" "redis-url" "item" "redis-url") }}
{{- else }}
{{- $list = append $list (dict "env" "REDIS_URL" "secret" .existingSecret "key" .existingSecretKey "item" "redis-url") }}
{{- end }}
{{- if .passwordFile }}
{{- $list = append $list (dict "env" "REDIS_PASSWORD" "path" .passwordFile) }}
{{- else if .password }}
{{- $list = append $list (dict "env" "REDIS_PASSWORD" "secret" $chart "key" "redis-password" "item" "redis-password") }}
{{- else if and .existingSecret .existingSecretPasswordKey }}
{{- $list = append $list (dict "env" "REDIS_PASSWORD" "secret" .existingSecret "key" .existingSecretPasswordKey "item" "redis-password") }}
{{- end }}
{{- end }}
{{- end }}
{{- if .migrate }}
{{- if $v.admin.existingSecret }}
{{- $list = append $list (dict "env" "DJANGO_SUPERUSER_PASSWORD" "secret" $v.admin.existingSecret "key" "password" "item" "superuser-password") }}
{{- else if $v.admin.passwordFile }}
{{- $list = append $list (dict "env" "DJANGO_SUPERUSER_PASSWORD" "path" $v.admin.passwordFile) }}
{{- end }}
{{- end }}
{{- $result := list }}
{{- range $list }}
{{- if .item }}
{{- $result = append $result (set . "path" (printf "%s/%s" $dir .item)) }}
{{- else }}
{{- $result = append $result . }}
{{- end }}
{{- end }}
{{- toJson $result }}
{{- end }}

{{/*
The credentials' *_FILE variables and the plain URLs of the in-chart PostgreSQL and Redis (a
host and a user name, nothing secret). Pass (dict "root" $ "migrate" bool).
*/}}
{{- define "jiwoo.credentialEnv" -}}
{{- $v := .root.Values }}
{{- if $v.postgresql.enabled }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s@%s:5432/%s" $v.postgresql.auth.username (include "jiwoo.postgresqlHost" .root) $v.postgresql.auth.database | quote }}
{{- end }}
{{- if $v.redis.enabled }}
- name: REDIS_URL
  value: {{ printf "redis://%s:6379/0" (include "jiwoo.redisHost" .root) | quote }}
{{- end }}
{{- range include "jiwoo.credentials" . | fromJsonArray }}
- name: {{ .env }}_FILE
  value: {{ .path | quote }}
{{- end }}
{{- end }}

{{/*
The projected volume's sources for the credentials held in Secrets, one source per Secret
(sorted by name, so a render is stable); empty when every credential is the operator's file.
Pass (dict "root" $ "migrate" bool).
*/}}
{{- define "jiwoo.credentialSources" -}}
{{- $bySecret := dict }}
{{- range include "jiwoo.credentials" . | fromJsonArray }}
{{- if .item }}
{{- $items := get $bySecret .secret | default (list) }}
{{- $_ := set $bySecret .secret (append $items (dict "key" .key "path" .item)) }}
{{- end }}
{{- end }}
{{- range $name, $items := $bySecret }}
- secret:
    name: {{ $name }}
    items:
      {{- toYaml $items | nindent 6 }}
{{- end }}
{{- end }}

{{/*
The volume an app container reads its credentials from: "credentials" (the web server and the
clearsessions job), "migrate-credentials" for the migration init container when it reads more
(the migration URL, the superuser's password), "" when none comes from a Secret.
Pass (dict "root" $ "migrate" bool).
*/}}
{{- define "jiwoo.credentialVolumeName" -}}
{{- $sources := include "jiwoo.credentialSources" . }}
{{- if not $sources }}
{{- else if and .migrate (ne $sources (include "jiwoo.credentialSources" (dict "root" .root "migrate" false))) }}migrate-credentials
{{- else }}credentials
{{- end }}
{{- end }}

{{/* The volume itself; pass (dict "root" $ "migrate" bool). Read-only files, readable by the pod's fsGroup. */}}
{{- define "jiwoo.credentialVolume" -}}
- name: {{ include "jiwoo.credentialVolumeName" . }}
  projected:
    defaultMode: 0440
    sources:
      {{- include "jiwoo.credentialSources" . | trim | nindent 6 }}
{{- end }}

{{/* The mount of that volume; pass (dict "root" $ "migrate" bool). */}}
{{- define "jiwoo.credentialMount" -}}
{{- with include "jiwoo.credentialVolumeName" . }}
- name: {{ . }}
  mountPath: {{ include "jiwoo.credentialsDir" $.root }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
Everything an app container gets: its credentials as files, where it runs, and django.extraEnv
last. Pass (dict "root" $ "migrate" bool).
*/}}
{{- define "jiwoo.appEnv" -}}
{{ include "jiwoo.credentialEnv" . | trim }}
{{ include "jiwoo.downwardEnv" .root }}
{{- with .root.Values.django.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* envFrom of every app container: the chart's ConfigMap, then django.extraEnvFrom. */}}
{{- define "jiwoo.appEnvFrom" -}}
- configMapRef:
    name: {{ include "jiwoo.fullname" . }}
{{- with .Values.django.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* volumeMounts of every app container: /tmp, the credentials, extraVolumeMounts. Pass (dict "root" $ "migrate" bool). */}}
{{- define "jiwoo.appVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- with include "jiwoo.credentialMount" . | trim }}
{{ . }}
{{- end }}
{{- with .root.Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* volumes of the app pods (web and clearsessions): /tmp, the credentials, extraVolumes. Pass (dict "root" $ "migrate" bool). */}}
{{- define "jiwoo.appVolumes" -}}
# The root filesystem is read-only; gunicorn and Python need a writable /tmp.
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 64Mi
{{- if include "jiwoo.credentialVolumeName" (dict "root" .root "migrate" false) }}
{{ include "jiwoo.credentialVolume" (dict "root" .root "migrate" false) }}
{{- end }}
{{- if and .migrate (eq (include "jiwoo.credentialVolumeName" .) "migrate-credentials") }}
{{ include "jiwoo.credentialVolume" . }}
{{- end }}
{{- with .root.Values.extraVolumes }}
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
