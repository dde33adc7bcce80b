{{- define "boutique.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
{{- end }}
