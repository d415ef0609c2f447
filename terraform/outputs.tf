output "function_name" {
  description = "Name of the triage function (also its Cloud Run service's name)."
  value       = google_cloudfunctions2_function.triage.name
}

output "function_uri" {
  description = "run.app URI of the function; only the push identity may invoke it."
  value       = google_cloudfunctions2_function.triage.service_config[0].uri
}

output "function_service_account_email" {
  description = "Runtime identity of the function; holds only the module's custom roles (custom_role_ids)."
  value       = google_service_account.function.email
}

output "push_service_account_email" {
  description = "Identity in the push subscriptions' OIDC tokens; may only invoke the triage function (and the responder, with enable_response)."
  value       = google_service_account.push.email
}

output "scc_source_name" {
  description = "organizations/ORG/sources/ID: the project's own SCC source, given to the function as SCC_SOURCE_NAME."
  value       = google_scc_v2_organization_source.triage.name
}

output "notification_config_name" {
  description = "Full name of the SCC v2 notification config."
  value       = google_scc_v2_organization_notification_config.socat.name
}

output "notification_filter" {
  description = "The notification config's streaming filter."
  value       = google_scc_v2_organization_notification_config.socat.streaming_config[0].filter
}

output "notifications_topic" {
  description = "projects/P/topics/T receiving the SCC notifications."
  value       = google_pubsub_topic.notifications.id
}

output "push_subscription" {
  description = "projects/P/subscriptions/S pushing notifications to the function."
  value       = google_pubsub_subscription.push.id
}

output "dead_letter_topic" {
  description = "projects/P/topics/T receiving notifications whose delivery attempts ran out."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription" {
  description = "projects/P/subscriptions/S retaining dead letters for inspection and replay."
  value       = google_pubsub_subscription.dead_letter.id
}

output "build_service_account_email" {
  description = "Identity Cloud Build builds the function as: the module's <prefix>-build account, or build_service_account_email."
  value       = local.build_service_account_email
}

output "custom_role_ids" {
  description = "The custom organization roles granted to the function, by what they cover (fanout_publisher only when fanout_topic is set)."
  value = {
    own_source       = google_organization_iam_custom_role.own_source_writer.name
    org_wide         = google_organization_iam_custom_role.org_wide.name
    cluster_reads    = google_organization_iam_custom_role.cluster_reads.name
    fanout_publisher = one(google_organization_iam_custom_role.fanout_publisher[*].name)
  }
}

output "source_archive_object" {
  description = "gs:// URI of the deployed source archive, named by its SHA-256."
  value       = "gs://${google_storage_bucket.function_source.name}/${google_storage_bucket_object.function_source.name}"
}

output "alert_policy_name" {
  description = "Name of the alert policy on failures and dead letters."
  value       = google_monitoring_alert_policy.triage_failures.name
}

output "log_metric_types" {
  description = "Metric types of the log-based metrics (outcome counter, duration distribution)."
  value = {
    outcomes = "logging.googleapis.com/user/${google_logging_metric.outcomes.name}"
    duration = "logging.googleapis.com/user/${google_logging_metric.duration.name}"
  }
}

output "responder_function_name" {
  description = "Name of the respondSocatFinding function; null unless enable_response."
  value       = var.enable_response ? google_cloudfunctions2_function.responder[0].name : null
}

output "responder_service_account_email" {
  description = "Runtime identity of respondSocatFinding (only the responder custom roles); null unless enable_response."
  value       = var.enable_response ? google_service_account.responder[0].email : null
}

output "evidence_bucket" {
  description = "Name of the evidence bucket (retention policy of evidence_retention_seconds); null unless enable_response."
  value       = var.enable_response ? google_storage_bucket.evidence[0].name : null
}
