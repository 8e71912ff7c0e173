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
{{/* Replicas: 2 with leader election, 1 without, unless set; never >1 without a leader. */}}
{{- define "mapi-operator.replicas" -}}
{{- $le := .Values.leaderElection.enabled -}}
{{- $n := ternary 2 1 $le -}}
{{- if not (kindIs "invalid" .Values.replicaCount) }}{{ $n = int .Values.replicaCount }}{{ end -}}
{{- if and (gt $n 1) (not $le) -}}
{{- fail (printf "replicaCount=%d needs leaderElection.enabled=true: without a leader every replica would reconcile the same MailDomains" $n) -}}
{{- end -}}
{{- $n -}}
{{- end -}}
{{- define "mapi-operator.leaseName" -}}
{{- default (printf "%s-leader" (include "mapi-operator.fullname" .)) .Values.leaderElection.id | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{/*
The rules the operator needs in every namespace it serves, and no more. Verbs are the ones
the code sends (src/kube): informers list+watch, server-side apply PATCHes (and creates
when the object is new), pruning DELETEs, status is written by server-side apply (PATCH).
*/}}
{{- define "mapi-operator.namespacedRules" -}}
- apiGroups: [mapi-operator.io]
  resources: [maildomains, mailboxes]
  verbs: [get, list, watch]
- apiGroups: [mapi-operator.io]
  resources: [maildomains/status, mailboxes/status]
  verbs: [patch]
# Children carry an ownerReference with blockOwnerDeletion: clusters running the
# OwnerReferencesPermissionEnforcement admission plugin (e.g. OpenShift) require this.
- apiGroups: [mapi-operator.io]
  resources: [maildomains/finalizers]
  verbs: [update]
- apiGroups: [cert-manager.io]
  resources: [certificates]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [cert-manager.io]
  resources: [issuers]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [services, configmaps]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- if .Values.rbac.readSecrets }}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
{{- end }}
{{- end -}}
