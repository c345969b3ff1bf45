{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "imgpipe.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release name, plus the chart name unless it already contains it. */}}
{{- define "imgpipe.fullname" -}}
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

{{- define "imgpipe.selectorLabels" -}}
app.kubernetes.io/name: {{ include "imgpipe.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The worker pods only (the setup Job's pods carry component=setup, the reconcile CronJob's component=reconcile). */}}
{{- define "imgpipe.workerSelectorLabels" -}}
{{ include "imgpipe.selectorLabels" . }}
app.kubernetes.io/component: worker
{{- end }}

{{- define "imgpipe.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "imgpipe.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: imgpipe
{{- end }}

{{- define "imgpipe.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "imgpipe.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "imgpipe.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The upper bound of the ScaledObject: keda.maxReplicas, or the partition count. */}}
{{- define "imgpipe.kedaMaxReplicas" -}}
{{- if gt (int .Values.keda.maxReplicas) 0 }}{{ int .Values.keda.maxReplicas }}{{ else }}{{ int .Values.kafka.partitions }}{{ end }}
{{- end }}

{{/*
Checks across values that values.schema.json cannot express. Included by the
Deployment, so `helm template` and `helm install` stop with the message.
*/}}
{{- define "imgpipe.validate" -}}
{{- if .Values.keda.enabled }}
{{- $max := int (include "imgpipe.kedaMaxReplicas" .) }}
{{- if gt $max (int .Values.kafka.partitions) }}
{{- fail (printf "keda.maxReplicas (%d) is above kafka.partitions (%d): replicas beyond the partition count get no partition and sit idle" $max (int .Values.kafka.partitions)) }}
{{- end }}
{{- if gt (int .Values.keda.minReplicas) $max }}
{{- fail (printf "keda.minReplicas (%d) is above the maximum (%d)" (int .Values.keda.minReplicas) $max) }}
{{- end }}
{{- end }}
{{- if and (not .Values.keda.enabled) (gt (int .Values.replicaCount) (int .Values.kafka.partitions)) }}
{{- fail (printf "replicaCount (%d) is above kafka.partitions (%d): a worker without a partition never becomes ready" (int .Values.replicaCount) (int .Values.kafka.partitions)) }}
{{- end }}
{{- if ge (int .Values.shutdownGraceSeconds) (int .Values.terminationGracePeriodSeconds) }}
{{- fail (printf "shutdownGraceSeconds (%d) must be shorter than terminationGracePeriodSeconds (%d), or Kubernetes kills the worker before it has finished" (int .Values.shutdownGraceSeconds) (int .Values.terminationGracePeriodSeconds)) }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.existingSecret) }}
{{- fail "kafka.sasl.enabled needs kafka.sasl.existingSecret" }}
{{- end }}
{{- end }}

{{/* Environment shared by the worker, the setup Job and the reconcile CronJob: every IMGPIPE_* setting. */}}
{{- define "imgpipe.env" -}}
- name: IMGPIPE_CONFIG
  value: /etc/imgpipe/config.yaml
- name: IMGPIPE_KAFKA_BROKERS
  value: {{ .Values.kafka.brokers | quote }}
- name: IMGPIPE_KAFKA_TOPIC
  value: {{ .Values.kafka.topic | quote }}
- name: IMGPIPE_KAFKA_DLQ_TOPIC
  value: {{ .Values.kafka.dlqTopic | quote }}
- name: IMGPIPE_KAFKA_GROUP
  value: {{ .Values.kafka.group | quote }}
- name: IMGPIPE_KAFKA_PARTITIONS
  value: {{ .Values.kafka.partitions | quote }}
- name: IMGPIPE_KAFKA_REPLICATION
  value: {{ .Values.kafka.replication | quote }}
{{- if .Values.kafka.sasl.enabled }}
- name: IMGPIPE_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.sasl.securityProtocol | quote }}
- name: IMGPIPE_KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.sasl.mechanism | quote }}
- name: IMGPIPE_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret }}
      key: {{ .Values.kafka.sasl.usernameKey }}
- name: IMGPIPE_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret }}
      key: {{ .Values.kafka.sasl.passwordKey }}
{{- end }}
- name: IMGPIPE_S3_ENDPOINT
  value: {{ .Values.s3.endpoint | quote }}
- name: IMGPIPE_S3_REGION
  value: {{ .Values.s3.region | quote }}
- name: IMGPIPE_S3_PATH_STYLE
  value: {{ .Values.s3.pathStyle | quote }}
- name: IMGPIPE_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.s3.existingSecret }}
      key: {{ .Values.s3.accessKeyKey }}
- name: IMGPIPE_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.s3.existingSecret }}
      key: {{ .Values.s3.secretKeyKey }}
- name: IMGPIPE_SOURCE_BUCKET
  value: {{ .Values.s3.sourceBucket | quote }}
- name: IMGPIPE_TARGET_BUCKET
  value: {{ .Values.s3.targetBucket | quote }}
- name: IMGPIPE_NOTIFY_ARN
  value: {{ .Values.s3.notifyArn | quote }}
- name: IMGPIPE_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "imgpipe.podSecurity" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}
