# scc-socat-triage in several organizations from one root configuration and
# one state. Each organization gets its own module instance: its own SCC
# source, notification config, topics, function, service accounts, custom
# roles, metrics and alert policy. Instances may share a host project: their
# names differ by prefix.
#
# One state for all organizations means one apply touches all of them; to keep
# organizations independent (separate states, separate failures), run
# examples/single_organization once per organization instead, as cloudbuild.yaml does.

provider "google" {
  user_project_override = true
  billing_project       = var.billing_project_id
}

module "socat_triage" {
  source   = "../.."
  for_each = var.organizations

  organization_id     = each.value.organization_id
  project_id          = each.value.project_id
  region              = each.value.region
  name_prefix         = "socat-triage-${each.key}"
  function_source_dir = var.function_source_dir

  dry_run                  = each.value.dry_run
  notification_channel_ids = each.value.notification_channel_ids
}
