{{- define "mapi-operator.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "mapi-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- define "mapi-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "mapi-operator.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}
{{- define "mapi-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mapi-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "mapi-operator.labels" -}}
{{ include "mapi-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{/* The rules the operator needs in every namespace it serves. */}}
{{- define "mapi-operator.namespacedRules" -}}
- apiGroups: [mapi-operator.io]
  resources: [maildomains, mailboxes]
  verbs: [get, list, watch]
- apiGroups: [mapi-operator.io]
  resources: [maildomains/status, mailboxes/status]
  verbs: [get, patch, update]
- apiGroups: [cert-manager.io]
  resources: [certificates]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [cert-manager.io]
  resources: [issuers]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [""]
  resources: [services, configmaps]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch, update]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch, update]
{{- if .Values.rbac.readSecrets }}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
{{- end }}
{{- end -}}
