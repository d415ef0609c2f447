# A complete root configuration: scc-socat-triage in one organization.
# This is the configuration cloudbuild.yaml applies, once per organization.

provider "google" {
  project = var.project_id
  region  = var.region

  # SCC and organization-level calls are billed and rate-limited against the
  # host project, not against the deployer's default project.
  user_project_override = true
  billing_project       = var.project_id
}

module "socat_triage" {
  source = "../.."

  organization_id     = var.organization_id
  project_id          = var.project_id
  region              = var.region
  name_prefix         = var.name_prefix
  function_source_dir = var.function_source_dir

  dry_run                  = var.dry_run
  log_level                = var.log_level
  notification_channel_ids = var.notification_channel_ids
}
