{{- define "mapi-operator.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "mapi-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}{{ .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{/* The operator image: by digest when image.digest is set (the tag, if any, stays for people to read). */}}
{{- define "mapi-operator.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- if .Values.image.tag }}{{ printf "%s:%s@%s" .Values.image.repository .Values.image.tag .Values.image.digest }}{{ else }}{{ printf "%s@%s" .Values.image.repository .Values.image.digest }}{{ end -}}
{{- else -}}
{{ printf "%s:%s" .Values.image.repository $tag }}
{{- end -}}
{{- end -}}
{{/* The access gate sidecar's image: the operator's own unless gatekeeper.image says otherwise. */}}
{{- define "mapi-operator.gatekeeperImage" -}}
{{- default (include "mapi-operator.image" .) .Values.gatekeeper.image -}}
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
The rules the operator needs in every namespace it serves, and no more. Informers list and
watch; children are written with server-side apply (PATCH, and create when new), replaced
(update) and pruned (delete); status is read and written through the status subresource.
*/}}
{{- define "mapi-operator.namespacedRules" -}}
- apiGroups: [mapi-operator.io]
  resources: [mapiservers, maildomains, mailboxes]
  verbs: [get, list, watch]
- apiGroups: [mapi-operator.io]
  resources: [mapiservers/status, maildomains/status, mailboxes/status]
  verbs: [get, update, patch]
# Children carry an ownerReference with blockOwnerDeletion: clusters running the
# OwnerReferencesPermissionEnforcement admission plugin (e.g. OpenShift) require this.
- apiGroups: [mapi-operator.io]
  resources: [mapiservers/finalizers, maildomains/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [services, configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
{{- if .Values.rbac.readSecrets }}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
{{- end }}
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [cert-manager.io]
  resources: [certificates]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [cert-manager.io]
  resources: [issuers]
  verbs: [get, list, watch]
{{- if .Values.rbac.gatewayAPI }}
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes, listenersets]
  verbs: [get, list, watch, create, update, patch, delete]
{{- end }}
{{- end -}}
{{/* Pod labels a topology spread constraint or anti-affinity selects the operator's pods by. */}}
{{- define "mapi-operator.topologySpread" -}}
{{- $sel := include "mapi-operator.selectorLabels" . | fromYaml -}}
{{- $list := .Values.topologySpreadConstraints -}}
{{- if kindIs "invalid" $list -}}
{{- $list = list (dict "maxSkew" 1 "topologyKey" "kubernetes.io/hostname" "whenUnsatisfiable" "ScheduleAnyway") -}}
{{- end -}}
{{- $out := list -}}
{{- range $list -}}
{{- $c := deepCopy . -}}
{{- if not (hasKey $c "labelSelector") }}{{ $_ := set $c "labelSelector" (dict "matchLabels" $sel) }}{{ end -}}
{{- $out = append $out $c -}}
{{- end -}}
{{- if $out }}{{ toYaml $out }}{{ end -}}
{{- end -}}
{{/* A Go duration of values.schema.json's form (1h30m, 168h, 90s) in whole seconds. */}}
{{- define "mapi-operator.durationSeconds" -}}
{{- $total := 0.0 -}}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ms|s|m|h)" . -1 -}}
{{- $unit := regexFind "(ms|s|m|h)$" . -}}
{{- $n := float64 (trimSuffix $unit .) -}}
{{- $mult := get (dict "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0) $unit -}}
{{- $total = addf $total (mulf $n $mult) -}}
{{- end -}}
{{- printf "%d" (int64 (floor $total)) -}}
{{- end -}}
