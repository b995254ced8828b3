{{/*
Names, labels, images and the hardened security contexts shared by every template.
*/}}

{{/* The port every Chorus image listens on (the images' EXPOSE and *_PORT settings). */}}
{{- define "chorus.httpPort" -}}8080{{- end }}

{{- define "chorus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name; components append "-router", "-operator". */}}
{{- define "chorus.fullname" -}}
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

{{/* A component's object name: "<fullname>-<component>", within 63 characters. */}}
{{- define "chorus.componentName" -}}
{{- printf "%s-%s" (include "chorus.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component }}
{{- end }}

{{- define "chorus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels never change over a release's life: Deployments' selectors are immutable.
Call with (dict "root" $ "component" "router").
*/}}
{{- define "chorus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chorus.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Every object's labels: the selector labels plus version, chart and manager. */}}
{{- define "chorus.labels" -}}
{{ include "chorus.selectorLabels" . }}
app.kubernetes.io/part-of: chorus
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "chorus.chart" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
An image reference from an image block: [registry/]repository(:tag|@digest). The tag falls
back to global.imageTag, then to the chart's appVersion. Call with (dict "root" $ "image" .image).
*/}}
{{- define "chorus.image" -}}
{{- $global := .root.Values.global }}
{{- $registry := .image.registry | default $global.imageRegistry }}
{{- $repository := required "every image needs a repository" .image.repository }}
{{- $ref := ternary (printf "%s/%s" $registry $repository) $repository (ne $registry "") }}
{{- if .image.digest }}
{{- printf "%s@%s" $ref .image.digest }}
{{- else }}
{{- printf "%s:%s" $ref (.image.tag | default $global.imageTag | default .root.Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{- define "chorus.serviceAccountName" -}}
{{- $sa := index .root.Values .component "serviceAccount" }}
{{- if $sa.create }}
{{- $sa.name | default (include "chorus.componentName" .) }}
{{- else }}
{{- $sa.name | default "default" }}
{{- end }}
{{- end }}

{{/* Pod-level hardening: non-root, the chart's identity, RuntimeDefault seccomp. */}}
{{- define "chorus.podSecurityContext" -}}
runAsNonRoot: true
{{- with .Values.securityContext }}
{{- if not (kindIs "invalid" .runAsUser) }}
runAsUser: {{ .runAsUser }}
{{- end }}
{{- if not (kindIs "invalid" .runAsGroup) }}
runAsGroup: {{ .runAsGroup }}
{{- end }}
{{- if not (kindIs "invalid" .fsGroup) }}
fsGroup: {{ .fsGroup }}
{{- end }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level hardening, the same for every container. */}}
{{- define "chorus.containerSecurityContext" -}}
runAsNonRoot: true
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* OTEL_* environment for a service named .service, when an endpoint is set. */}}
{{- define "chorus.otelEnv" -}}
{{- with .root.Values.otel }}
{{- if .endpoint }}
- name: OTEL_SERVICE_NAME
  value: {{ $.service | quote }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .protocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ .sampler | quote }}
{{- if .samplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ .samplerArg | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Whether a provider entry is rendered: enabled, and for cloud providers a named Secret.
Call with the entry; prints "true" or nothing.
*/}}
{{- define "chorus.providerRendered" -}}
{{- if .enabled }}
{{- $spec := .spec | default dict }}
{{- if ne ($spec.kind | default "") "cloud" }}true
{{- else if (($spec.credentials | default dict).secretName) }}true
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels the operator puts on every provider pod and Service (operator/src/chorus_operator/naming.py).
*/}}
{{- define "chorus.providerSelector" -}}
app.kubernetes.io/component: tts-provider
app.kubernetes.io/managed-by: chorus-operator
{{- end }}

{{/* The OTLP endpoint's port, when an endpoint is set: providers may send traces there. */}}
{{- define "chorus.otlpPort" -}}
{{- with .Values.otel.endpoint }}
{{- $host := (urlParse .).host }}
{{- if regexMatch ":[0-9]+$" $host }}
{{- regexFind "[0-9]+$" $host }}
{{- else if hasPrefix "https" . }}443
{{- else }}80
{{- end }}
{{- end }}
{{- end }}
