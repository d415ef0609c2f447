variable "organization_id" {
  type        = string
  description = "Numeric id of the organization to triage."
}

variable "project_id" {
  type        = string
  description = "Project that hosts the function, topics, metrics and alert policy."
}

variable "region" {
  type        = string
  description = "Region of the function."
  default     = "europe-west1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of the resource names; give organizations that share a host project different prefixes."
  default     = "socat-triage"
}

variable "function_source_dir" {
  type        = string
  description = "Packaged function directory (terraform/scripts/package-function-source.mjs). The default is where `node terraform/scripts/package-function-source.mjs` writes it, seen from this directory."
  default     = "../../../build/function-source"
}

variable "dry_run" {
  type        = bool
  description = "Triage and log only, write nothing to SCC. Useful for a first rollout."
  default     = false
}

variable "log_level" {
  type        = string
  description = "Function log level (pino)."
  default     = "info"
}

variable "notification_channel_ids" {
  type        = list(string)
  description = "Monitoring notification channels for the alert policy."
  default     = []
}
