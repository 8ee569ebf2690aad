{{/* The chart's name, or nameOverride. */}}
{{- define "sagemcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resource name prefix, at most 63 characters (DNS label). */}}
{{- define "sagemcp.fullname" -}}
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

{{- define "sagemcp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sagemcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sagemcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sagemcp.labels" -}}
helm.sh/chart: {{ include "sagemcp.chart" . }}
{{ include "sagemcp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sagemcp
{{- end }}

{{- define "sagemcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sagemcp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sagemcp.secretName" -}}
{{- default (include "sagemcp.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "sagemcp.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The environment of the server and of the migration Job: the ConfigMap, then the Secret's keys. */}}
{{- define "sagemcp.env" -}}
- name: SAGEMCP_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "sagemcp.secretName" . }}
      key: {{ .Values.secrets.keys.databaseUrl }}
- name: SAGEMCP_SECRET_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "sagemcp.secretName" . }}
      key: {{ .Values.secrets.keys.secretKeys }}
- name: SAGEMCP_ADMIN_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "sagemcp.secretName" . }}
      key: {{ .Values.secrets.keys.adminKey }}
{{- if .Values.redis.enabled }}
- name: SAGEMCP_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "sagemcp.secretName" . }}
      key: {{ .Values.secrets.keys.redisUrl }}
# Where the other replicas forward requests for the MCP sessions this pod holds.
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: SAGEMCP_REPLICA_URL
  value: "http://$(POD_IP):8000"
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The pod-level fields shared by the server and the migration Job. */}}
{{- define "sagemcp.podCommon" -}}
serviceAccountName: {{ include "sagemcp.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Every non-secret setting as a rendered key/value map (the ConfigMap's data). */}}
{{- define "sagemcp.configData" -}}
SAGEMCP_HOST: "0.0.0.0"
SAGEMCP_PORT: "8000"
SAGEMCP_LOG_FORMAT: {{ .Values.config.logFormat | quote }}
SAGEMCP_LOG_LEVEL: {{ .Values.config.logLevel | quote }}
SAGEMCP_CACHE_TTL: {{ .Values.config.cacheTtl | toString | quote }}
SAGEMCP_SHUTDOWN_TIMEOUT: {{ .Values.config.shutdownTimeout | toString | quote }}
SAGEMCP_DB_POOL_SIZE: {{ .Values.config.dbPoolSize | toString | quote }}
SAGEMCP_DB_TIMEOUT: {{ .Values.config.dbTimeout | toString | quote }}
SAGEMCP_MCP_STATEFUL: {{ .Values.config.mcpStateful | toString | quote }}
{{- if .Values.redis.enabled }}
SAGEMCP_REDIS_KEY_PREFIX: {{ .Values.redis.keyPrefix | quote }}
{{- end }}
{{- with .Values.config.publicUrl }}
SAGEMCP_PUBLIC_URL: {{ . | quote }}
{{- end }}
{{- with .Values.config.databaseSchema }}
SAGEMCP_DATABASE_SCHEMA: {{ . | quote }}
{{- end }}
{{- with .Values.config.allowedHosts }}
SAGEMCP_ALLOWED_HOSTS: {{ toJson . | quote }}
{{- end }}
{{- end }}
