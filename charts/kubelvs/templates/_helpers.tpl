{{/*
Naming. Every object of a release carries the instance name (values.instance, default: the release
name), so several releases in one cluster never share an object, a Lease or a ClusterRole.
*/}}

{{/*
The name in the release's object names and their kubelvs.io/instance label: the instance, or the
release name when the instance is empty. 1-30 lowercase alphanumerics and dashes (values.schema.json).
*/}}
{{- define "kubelvs.instance" -}}
{{- default .Release.Name .Values.instance -}}
{{- end -}}

{{/*
The kubelvs instance the release serves, as the operator's and the agents' --instance: its
VrrpGroups carry kubelvs.io/instance=<it>. Empty is the unnamed instance: unlabelled groups.
*/}}
{{- define "kubelvs.servedInstance" -}}
{{- .Values.instance -}}
{{- end -}}

{{/* The served instance in messages. */}}
{{- define "kubelvs.describeServedInstance" -}}
{{- if .Values.instance -}}
kubelvs instance {{ .Values.instance }}
{{- else -}}
the unnamed kubelvs instance (release {{ .Release.Name }})
{{- end -}}
{{- end -}}

{{/* A NodeState's name for a node in the served instance, as a CEL expression over `node`. */}}
{{- define "kubelvs.nodeStateNameCel" -}}
{{- if .root.Values.instance -}}
{{ printf "'%s.' + %s" .root.Values.instance .node }}
{{- else -}}
{{ .node }}
{{- end -}}
{{- end -}}

{{/* CEL: the kubelvs.io/instance label of `obj`, '' when it has none. */}}
{{- define "kubelvs.instanceLabelCel" -}}
(has({{ . }}.metadata.labels) && 'kubelvs.io/instance' in {{ . }}.metadata.labels ? {{ . }}.metadata.labels['kubelvs.io/instance'] : '')
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
{{- include "kubelvs.checkInstanceUnclaimed" . -}}
{{- end -}}

{{/*
Two releases serving one instance would both write its NodeStates. Against a cluster (install,
upgrade; lookup finds nothing under `helm template`), refuse an instance another release's operator
ClusterRole says it serves (annotation kubelvs.io/served-instance).
*/}}
{{- define "kubelvs.checkInstanceUnclaimed" -}}
{{- $served := include "kubelvs.servedInstance" . -}}
{{- range $role := (lookup "rbac.authorization.k8s.io/v1" "ClusterRole" "" "").items | default list -}}
{{- $annotations := $role.metadata.annotations | default dict -}}
{{- if and (hasKey $annotations "kubelvs.io/served-instance") (eq (get $annotations "kubelvs.io/served-instance") $served) -}}
{{- $release := get $annotations "meta.helm.sh/release-name" -}}
{{- $namespace := get $annotations "meta.helm.sh/release-namespace" -}}
{{- if not (and (eq $release $.Release.Name) (eq $namespace $.Release.Namespace)) -}}
{{- $what := ternary (printf "kubelvs instance %s" $served) "the unnamed kubelvs instance (VrrpGroups without a kubelvs.io/instance label)" (ne $served "") -}}
{{- fail (printf "instance: release %s in namespace %s already serves %s; set another instance for this release (value: instance)" $release $namespace $what) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
