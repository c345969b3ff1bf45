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

{{/* Environment shared by the worker, the setup Job and the reconcile CronJob:
every IMGPIPE_* setting. Called with (dict "root" $ "component" "worker"|"setup"|"reconcile").
Secrets reach the process as files (*_FILE, mounted by imgpipe.secretVolumes),
never as environment values. */}}
{{- define "imgpipe.env" -}}
{{- $v := .root.Values -}}
{{- $sasl := include "imgpipe.kafkaSecret" . | fromYaml -}}
- name: IMGPIPE_CONFIG
  value: /etc/imgpipe/config.yaml
- name: IMGPIPE_KAFKA_BROKERS
  value: {{ $v.kafka.brokers | quote }}
- name: IMGPIPE_KAFKA_TOPIC
  value: {{ $v.kafka.topic | quote }}
- name: IMGPIPE_KAFKA_DLQ_TOPIC
  value: {{ $v.kafka.dlqTopic | quote }}
- name: IMGPIPE_KAFKA_GROUP
  value: {{ $v.kafka.group | quote }}
- name: IMGPIPE_KAFKA_PARTITIONS
  value: {{ $v.kafka.partitions | quote }}
- name: IMGPIPE_KAFKA_REPLICATION
  value: {{ $v.kafka.replication | quote }}
{{- if $v.kafka.sasl.enabled }}
- name: IMGPIPE_KAFKA_SECURITY_PROTOCOL
  value: {{ $v.kafka.sasl.securityProtocol | quote }}
- name: IMGPIPE_KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.sasl.mechanism | quote }}
- name: IMGPIPE_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $sasl.name }}
      key: {{ $v.kafka.sasl.usernameKey }}
- name: IMGPIPE_KAFKA_SASL_PASSWORD_FILE
  value: /etc/imgpipe-secrets/kafka/password
{{- end }}
{{- if $v.kafka.tls.caSecret }}
- name: IMGPIPE_KAFKA_SSL_CA_LOCATION
  value: /etc/imgpipe-secrets/kafka-ca/ca.crt
{{- end }}
- name: IMGPIPE_S3_ENDPOINT
  value: {{ $v.s3.endpoint | quote }}
- name: IMGPIPE_S3_REGION
  value: {{ $v.s3.region | quote }}
- name: IMGPIPE_S3_PATH_STYLE
  value: {{ $v.s3.pathStyle | quote }}
- name: IMGPIPE_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.s3.existingSecret }}
      key: {{ $v.s3.accessKeyKey }}
- name: IMGPIPE_S3_SECRET_KEY_FILE
  value: /etc/imgpipe-secrets/s3/secret-key
{{- if $v.s3.caSecret }}
- name: IMGPIPE_S3_CA_FILE
  value: /etc/imgpipe-secrets/s3-ca/ca.crt
{{- end }}
{{- if and (eq .component "setup") $v.setup.adminSecret }}
- name: IMGPIPE_SETUP_S3_ADMIN_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.setup.adminSecret }}
      key: {{ $v.setup.adminAccessKeyKey }}
- name: IMGPIPE_SETUP_S3_ADMIN_SECRET_KEY_FILE
  value: /etc/imgpipe-secrets/s3-admin/secret-key
{{- end }}
- name: IMGPIPE_SOURCE_BUCKET
  value: {{ $v.s3.sourceBucket | quote }}
- name: IMGPIPE_TARGET_BUCKET
  value: {{ $v.s3.targetBucket | quote }}
- name: IMGPIPE_NOTIFY_ARN
  value: {{ $v.s3.notifyArn | quote }}
- name: IMGPIPE_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The Secret with a component's Kafka user: the reconcile CronJob writes
events and has a user of its own; the worker and the setup Job share the
worker's. As YAML: name: <secret>. */}}
{{- define "imgpipe.kafkaSecret" -}}
{{- $v := .root.Values -}}
name: {{ ternary $v.reconcile.kafkaSecret $v.kafka.sasl.existingSecret (and (eq .component "reconcile") (ne $v.reconcile.kafkaSecret "")) }}
{{- end }}

{{/* Mounts of the secret files imgpipe.env names; same argument. */}}
{{- define "imgpipe.secretMounts" -}}
{{- $v := .root.Values -}}
- name: s3-secret
  mountPath: /etc/imgpipe-secrets/s3
  readOnly: true
{{- if $v.s3.caSecret }}
- name: s3-ca
  mountPath: /etc/imgpipe-secrets/s3-ca
  readOnly: true
{{- end }}
{{- if $v.kafka.sasl.enabled }}
- name: kafka-secret
  mountPath: /etc/imgpipe-secrets/kafka
  readOnly: true
{{- end }}
{{- if $v.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/imgpipe-secrets/kafka-ca
  readOnly: true
{{- end }}
{{- if and (eq .component "setup") $v.setup.adminSecret }}
- name: s3-admin-secret
  mountPath: /etc/imgpipe-secrets/s3-admin
  readOnly: true
{{- end }}
{{- end }}

{{/* The Secret volumes behind imgpipe.secretMounts: one key each, mode 0440
(owner and the pod's fsGroup), which imgpipe requires of a secret file. */}}
{{- define "imgpipe.secretVolumes" -}}
{{- $v := .root.Values -}}
- name: s3-secret
  secret:
    secretName: {{ $v.s3.existingSecret }}
    defaultMode: 0440
    items:
      - {key: {{ $v.s3.secretKeyKey }}, path: secret-key}
{{- if $v.s3.caSecret }}
- name: s3-ca
  secret:
    secretName: {{ $v.s3.caSecret }}
    defaultMode: 0444
    items:
      - {key: {{ $v.s3.caKey }}, path: ca.crt}
{{- end }}
{{- if $v.kafka.sasl.enabled }}
- name: kafka-secret
  secret:
    secretName: {{ (include "imgpipe.kafkaSecret" . | fromYaml).name }}
    defaultMode: 0440
    items:
      - {key: {{ $v.kafka.sasl.passwordKey }}, path: password}
{{- end }}
{{- if $v.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $v.kafka.tls.caSecret }}
    defaultMode: 0444
    items:
      - {key: {{ $v.kafka.tls.caKey }}, path: ca.crt}
{{- end }}
{{- if and (eq .component "setup") $v.setup.adminSecret }}
- name: s3-admin-secret
  secret:
    secretName: {{ $v.setup.adminSecret }}
    defaultMode: 0440
    items:
      - {key: {{ $v.setup.adminSecretKeyKey }}, path: secret-key}
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
