{{/*
Naming. Every object of a release carries the instance name (values.instance, default: the release
name), so several releases in one cluster never share an object, a Lease or a ClusterRole.
*/}}

{{/* The instance name: 1-30 lowercase alphanumerics and dashes (values.schema.json checks it). */}}
{{- define "kubelvs.instance" -}}
{{- default .Release.Name .Values.instance -}}
{{- end -}}

{{/* Name prefix of every object: "kubelvs" itself, "kubelvs-<instance>" otherwise. */}}
{{- define "kubelvs.fullname" -}}
{{- $instance := include "kubelvs.instance" . -}}
{{- if hasPrefix "kubelvs" $instance -}}
{{- $instance -}}
{{- else -}}
{{- printf "kubelvs-%s" $instance -}}
{{- end -}}
{{- end -}}

{{- define "kubelvs.operatorName" -}}{{ include "kubelvs.fullname" . }}-operator{{- end -}}
{{- define "kubelvs.agentName" -}}{{ include "kubelvs.fullname" . }}-agent{{- end -}}

{{- define "kubelvs.operatorServiceAccount" -}}
{{- default (include "kubelvs.operatorName" .) .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- define "kubelvs.agentServiceAccount" -}}
{{- default (include "kubelvs.agentName" .) .Values.agent.serviceAccount.name -}}
{{- end -}}

{{/* The operator's leader-election Lease, in the release namespace. */}}
{{- define "kubelvs.leaseName" -}}{{ include "kubelvs.operatorName" . }}{{- end -}}

{{/* Labels on every object. */}}
{{- define "kubelvs.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubelvs
kubelvs.io/instance: {{ include "kubelvs.instance" . }}
{{- end -}}

{{/* Selector labels of one component ("operator" or "agent"): stable across upgrades. */}}
{{- define "kubelvs.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kubelvs.componentLabels" -}}
{{ include "kubelvs.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The image reference: a digest wins over a tag; the tag defaults to the chart's appVersion. */}}
{{- define "kubelvs.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* HOST:PORT for --metrics-address; an empty host means every address ("[::]" and 0.0.0.0). */}}
{{- define "kubelvs.listenAddress" -}}
{{- $host := .host | default "" -}}
{{- if contains ":" $host -}}
[{{ $host }}]:{{ .port }}
{{- else -}}
{{ $host }}:{{ .port }}
{{- end -}}
{{- end -}}

{{/*
Namespaces whose Secrets the operator may read (VrrpGroups' v2 passwords): the release namespace
plus operator.secretNamespaces, or "*" for every namespace.
*/}}
{{- define "kubelvs.secretNamespaces" -}}
{{- $namespaces := list .Release.Namespace -}}
{{- range .Values.operator.secretNamespaces -}}
{{- $namespaces = append $namespaces . -}}
{{- end -}}
{{- $namespaces | uniq | toJson -}}
{{- end -}}

{{/* Checks the schema cannot express (cross-field). */}}
{{- define "kubelvs.validate" -}}
{{- with .Values.vrrp.vridRange -}}
{{- if and .enabled (gt (int .min) (int .max)) -}}
{{- fail (printf "vrrp.vridRange: min %d is greater than max %d" (int .min) (int .max)) -}}
{{- end -}}
{{- end -}}
{{- if and (has "*" .Values.operator.secretNamespaces) (gt (len .Values.operator.secretNamespaces) 1) -}}
{{- fail "operator.secretNamespaces: \"*\" (every namespace) cannot be combined with namespace names" -}}
{{- end -}}
{{- end -}}
