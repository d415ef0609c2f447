variable "organizations" {
  type = map(object({
    organization_id          = string
    project_id               = string
    region                   = optional(string, "europe-west1")
    dry_run                  = optional(bool, false)
    notification_channel_ids = optional(list(string), [])
  }))
  description = "Organizations to triage, keyed by a short label (1-12 lowercase letters or digits, starting with a letter) that goes into resource names."

  validation {
    condition     = alltrue([for key in keys(var.organizations) : can(regex("^[a-z][a-z0-9]{0,11}$", key))])
    error_message = "Organization keys must be 1-12 lowercase letters or digits, starting with a letter."
  }
}

variable "billing_project_id" {
  type        = string
  description = "Project that SCC and organization-level API calls made by Terraform are billed and rate-limited against."
}

variable "function_source_dir" {
  type        = string
  description = "Packaged function directory (terraform/scripts/package-function-source.mjs), shared by all organizations."
  default     = "../../../build/function-source"
}
