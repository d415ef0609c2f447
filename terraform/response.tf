# Responding from the console (issue #15), deployed when enable_response is true:
#
#   an engineer sets the security mark socat_response = ACTIONS on the enrichment finding
#     → SCC notification config on our own source, filtered to that mark
#     → Pub/Sub topic <prefix>-responses → push subscription <prefix>-responses-push (OIDC, dead letters)
#     → Cloud Run function respondSocatFinding (the same source archive; its own service account)
#     → who set the mark: the Data Access audit log of UpdateSecurityMarks (enabled below)
#     → records on the enrichment finding, result marks on the original finding
#
# The responder's identity holds only what lib/permissions.ts RESPONDER_PERMISSIONS
# lists (test/terraform/permissions.test.ts); the triage's stays read-only for
# Kubernetes.

locals {
  response_count = var.enable_response ? 1 : 0

  # SCC's findings filter grammar (":" is substring matching for strings; OR binds
  # tighter than AND): our own source, with a socat_response mark naming an action.
  response_notification_filter = format(
    "parent=%q AND (%s)",
    google_scc_v2_organization_source.triage.name,
    join(" OR ", [for action in ["capture", "block-c2", "isolate", "cordon", "delete-pod"] : format("security_marks.marks.socat_response:%q", action)]),
  )
}

# ---------------------------------------------------------------------------
# Who set the mark: UpdateSecurityMarks is a Data Access (DATA_WRITE) audit log
# of securitycenter.googleapis.com, off by default
# (https://cloud.google.com/security-command-center/docs/audit-logging).
# ---------------------------------------------------------------------------

resource "google_organization_iam_audit_config" "scc_data_write" {
  count   = var.enable_response && var.manage_scc_data_access_audit_config ? 1 : 0
  org_id  = var.organization_id
  service = "securitycenter.googleapis.com"

  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# ---------------------------------------------------------------------------
# Notification → topic → push subscription
# ---------------------------------------------------------------------------

resource "google_pubsub_topic" "responses" {
  count   = local.response_count
  project = var.project_id
  name    = "${var.name_prefix}-responses"
  labels  = local.labels

  depends_on = [google_project_service.required]
}

resource "google_scc_v2_organization_notification_config" "responses" {
  count        = local.response_count
  organization = var.organization_id
  location     = var.scc_location
  config_id    = "${var.name_prefix}-responses"
  description  = "Streams approvals (the socat_response mark) on scc-socat-triage's own findings to ${google_pubsub_topic.responses[0].id}."
  pubsub_topic = google_pubsub_topic.responses[0].id

  streaming_config {
    filter = local.response_notification_filter
  }

  depends_on = [google_pubsub_subscription.responses_push]
}

resource "google_pubsub_topic_iam_member" "scc_publishes_responses" {
  count   = local.response_count
  project = var.project_id
  topic   = google_pubsub_topic.responses[0].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_scc_v2_organization_notification_config.responses[0].service_account}"
}

resource "google_pubsub_subscription" "responses_push" {
  count   = local.response_count
  project = var.project_id
  name    = "${var.name_prefix}-responses-push"
  topic   = google_pubsub_topic.responses[0].id
  labels  = local.labels

  ack_deadline_seconds       = var.function_timeout_seconds + 30
  message_retention_duration = "${var.message_retention_seconds}s"

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.responder[0].service_config[0].uri}/${google_pubsub_topic.responses[0].id}"

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.responder[0].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "${var.retry_minimum_backoff_seconds}s"
    maximum_backoff = "${var.retry_maximum_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invokes_responder,
    google_service_account_iam_member.pubsub_signs_push_tokens,
  ]
}

resource "google_pubsub_subscription_iam_member" "pubsub_forwards_response_dead_letters" {
  count        = local.response_count
  project      = var.project_id
  subscription = google_pubsub_subscription.responses_push[0].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

resource "google_cloud_run_v2_service_iam_member" "push_invokes_responder" {
  count    = local.response_count
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.responder[0].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

# ---------------------------------------------------------------------------
# The responder's identity and least privilege
# ---------------------------------------------------------------------------

resource "google_service_account" "responder" {
  count        = local.response_count
  project      = var.project_id
  account_id   = "${var.name_prefix}-rsp"
  display_name = "scc-socat-triage responder (${var.organization_id})"
  description  = "Runtime identity of respondSocatFinding; holds only the responder custom roles in response.tf."

  depends_on = [google_project_service.required]
}

resource "google_organization_iam_custom_role" "responder_own_source_writer" {
  count       = local.response_count
  org_id      = var.organization_id
  role_id     = "${local.role_id_prefix}_responder_own_source"
  title       = "scc-socat-triage responder: records on our own SCC source"
  description = "Granted on the ${var.scc_source_display_name} source only, to respondSocatFinding."
  stage       = "GA"
  permissions = [
    # lib/respond/records.ts: updateFinding writes the response records on the enrichment finding (granted on our own source only)
    "securitycenter.findings.update",
  ]

  depends_on = [google_project_service.required]
}

resource "google_scc_v2_organization_source_iam_member" "responder_writes_own_source" {
  count        = local.response_count
  organization = var.organization_id
  source       = google_scc_v2_organization_source.triage.name
  role         = google_organization_iam_custom_role.responder_own_source_writer[0].name
  member       = "serviceAccount:${google_service_account.responder[0].email}"
}

# Marks go on the original finding in Container Threat Detection's source (no
# narrower scope exists, see iam.tf); the audit log of marks updates on our
# organization-level source is written to the organization's logs.
resource "google_organization_iam_custom_role" "responder_org" {
  count       = local.response_count
  org_id      = var.organization_id
  role_id     = "${local.role_id_prefix}_responder_org"
  title       = "scc-socat-triage responder: approvals and result marks"
  description = "What respondSocatFinding needs across the organization: who set the approval mark (audit log), result marks on the original findings, and the original finding and its related findings for capture's evidence."
  stage       = "GA"
  permissions = [
    # lib/respond/records.ts: updateSecurityMarks writes the socat_response_* result marks on the original finding
    "securitycenter.findingsecuritymarks.update",
    # lib/respond/approval.ts: ListLogEntries on the organization, to find who set the socat_response mark; lib/respond/regather.ts: capture re-gathers the pod, audit, node and kubelet logs
    "logging.logEntries.list",
    # lib/respond/approval.ts: the marks update is in the Data Access audit log, a private log
    "logging.privateLogEntries.list",
    # lib/respond/regather.ts: capture reads the original finding by name (ListFindings, v2 has no GetFinding) and its related findings across the organization
    "securitycenter.findings.list",
  ]

  depends_on = [google_project_service.required]
}

resource "google_organization_iam_member" "responder_org" {
  count  = local.response_count
  org_id = var.organization_id
  role   = google_organization_iam_custom_role.responder_org[0].name
  member = "serviceAccount:${google_service_account.responder[0].email}"
}

# The action modules' writes (RESPONSE_ACTION_PERMISSIONS in lib/permissions.ts):
# Kubernetes through GKE and Compute snapshots on read_scope, where the clusters
# are, and nowhere else; evidence uploads on the evidence bucket only. Capture's
# re-gathering of the evidence (lib/respond/regather.ts) reads the same clusters,
# so its Kubernetes reads are here too; its log reads and SCC's ListFindings are
# in responder_org.
resource "google_organization_iam_custom_role" "responder_actions" {
  count       = local.response_count
  org_id      = var.organization_id
  role_id     = "${local.role_id_prefix}_responder_actions"
  title       = "scc-socat-triage responder: approved containment"
  description = "What respondSocatFinding writes for an approved action (NetworkPolicy, pod label, cordon, pod delete, boot disk snapshot) and reads to re-gather capture evidence; granted on read_scope only."
  stage       = "GA"
  permissions = [
    # lib/respond/capture.ts: instances.get finds the node's boot disk
    "compute.instances.get",
    # lib/respond/capture.ts: disks.createSnapshot of the node's boot disk
    "compute.disks.createSnapshot",
    # lib/respond/capture.ts: the snapshot created in the node's project
    "compute.snapshots.create",
    # lib/respond/capture.ts: the snapshot is created with labels naming the detection
    "compute.snapshots.setLabels",
    # lib/respond/capture.ts: zoneOperations.wait until the snapshot operation is done
    "compute.zoneOperations.get",
    # lib/respond/kube-actions.ts: block-c2 and isolate create their NetworkPolicy
    "container.networkPolicies.create",
    # lib/respond/kube-actions.ts: block-c2 and isolate read a policy of the same name on 409 AlreadyExists
    "container.networkPolicies.get",
    # lib/respond/kube-actions.ts: block-c2 adds a second C2 of the same pods to their policy (PUT)
    "container.networkPolicies.update",
    # lib/respond/kube-actions.ts: isolate reads the pod before labelling it
    "container.pods.get",
    # lib/respond/kube-actions.ts: isolate labels the pod (PATCH)
    "container.pods.update",
    # lib/respond/kube-actions.ts: delete-pod
    "container.pods.delete",
    # lib/respond/kube-actions.ts: cordon reads the node first
    "container.nodes.get",
    # lib/respond/kube-actions.ts: cordon sets spec.unschedulable (PATCH)
    "container.nodes.update",
    # lib/respond/actions.ts: GKE getCluster finds the control plane the Kubernetes actions write to
    "container.clusters.get",
    # lib/respond/actions.ts: the Kubernetes actions reach a cluster's DNS-based endpoint
    "container.clusters.connect",
    # lib/respond/regather.ts: capture re-gathers the evidence through gatherer pod (owner chain: apps/v1 replicasets get)
    "container.replicaSets.get",
    # lib/respond/regather.ts: capture re-gathers the evidence through gatherer pod (owner chain: apps/v1 deployments get)
    "container.deployments.get",
    # lib/respond/regather.ts: capture re-gathers the evidence through gatherer pod (owner chain: apps/v1 statefulsets get)
    "container.statefulSets.get",
    # lib/respond/regather.ts: capture re-gathers the evidence through gatherer pod (owner chain: apps/v1 daemonsets get)
    "container.daemonSets.get",
    # lib/respond/regather.ts: capture re-gathers the evidence through gatherer pod (owner chain: batch/v1 jobs get)
    "container.jobs.get",
    # lib/respond/regather.ts: capture re-gathers the evidence through gatherer pod (owner chain: batch/v1 cronjobs get)
    "container.cronJobs.get",
    # lib/respond/regather.ts: capture re-gathers the evidence through gatherer namespace (Kubernetes core/v1 namespaces get)
    "container.namespaces.get",
  ]

  depends_on = [google_project_service.required]
}

resource "google_organization_iam_member" "responder_actions" {
  count  = var.enable_response && local.read_scope_kind == "organization" ? 1 : 0
  org_id = var.organization_id
  role   = google_organization_iam_custom_role.responder_actions[0].name
  member = "serviceAccount:${google_service_account.responder[0].email}"
}

resource "google_folder_iam_member" "responder_actions" {
  for_each = var.enable_response && local.read_scope_kind == "folders" ? toset(var.read_scope.folder_ids) : toset([])
  folder   = "folders/${each.value}"
  role     = google_organization_iam_custom_role.responder_actions[0].name
  member   = "serviceAccount:${google_service_account.responder[0].email}"
}

resource "google_project_iam_member" "responder_actions" {
  for_each = var.enable_response && local.read_scope_kind == "projects" ? toset(var.read_scope.project_ids) : toset([])
  project  = each.value
  role     = google_organization_iam_custom_role.responder_actions[0].name
  member   = "serviceAccount:${google_service_account.responder[0].email}"
}

resource "google_organization_iam_custom_role" "responder_evidence_writer" {
  count       = local.response_count
  org_id      = var.organization_id
  role_id     = "${local.role_id_prefix}_responder_evidence"
  title       = "scc-socat-triage responder: keep evidence files"
  description = "Granted on the evidence bucket only, to respondSocatFinding: create objects, never replace or delete them."
  stage       = "GA"
  permissions = [
    # lib/respond/capture.ts: evidence files uploaded to EVIDENCE_BUCKET (granted on that bucket only)
    "storage.objects.create",
  ]

  depends_on = [google_project_service.required]
}

resource "google_storage_bucket_iam_member" "responder_evidence_writer" {
  count  = local.response_count
  bucket = google_storage_bucket.evidence[0].name
  role   = google_organization_iam_custom_role.responder_evidence_writer[0].name
  member = "serviceAccount:${google_service_account.responder[0].email}"
}

# ---------------------------------------------------------------------------
# The evidence store: the capture action's files, kept unalterable for
# evidence_retention_seconds by the bucket's retention policy (an object can be
# neither deleted nor replaced before it is that old;
# https://cloud.google.com/storage/docs/bucket-lock). Locking the policy
# (evidence_retention_locked) makes that permanent.
# ---------------------------------------------------------------------------

resource "google_storage_bucket" "evidence" {
  count                       = local.response_count
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-evidence"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  retention_policy {
    retention_period = var.evidence_retention_seconds
    is_locked        = var.evidence_retention_locked
  }

  depends_on = [google_project_service.required]
}

# ---------------------------------------------------------------------------
# The function
# ---------------------------------------------------------------------------

resource "google_cloudfunctions2_function" "responder" {
  count       = local.response_count
  project     = var.project_id
  location    = var.region
  name        = "${local.function_name}-respond"
  description = "Carries out responses approved with the socat_response mark on scc-socat-triage's findings of organization ${var.organization_id}."
  labels      = local.labels

  build_config {
    runtime         = "nodejs24"
    entry_point     = "respondSocatFinding"
    service_account = "projects/${var.project_id}/serviceAccounts/${local.build_service_account_email}"

    source {
      storage_source {
        bucket = google_storage_bucket.function_source.name
        object = google_storage_bucket_object.function_source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.responder[0].email
    timeout_seconds                  = var.function_timeout_seconds
    available_memory                 = "${var.function_memory_mib}Mi"
    available_cpu                    = tostring(var.function_vcpu_count)
    min_instance_count               = 0
    max_instance_count               = var.function_max_instance_count
    max_instance_request_concurrency = var.function_concurrent_requests_per_instance
    ingress_settings                 = var.function_ingress_settings
    vpc_connector                    = var.vpc_connector
    vpc_connector_egress_settings    = var.vpc_connector == null ? null : var.vpc_connector_egress_settings
    all_traffic_on_latest_revision   = true
    # The triage's environment (so both read the same approvers, AUTO_RESPONSE and verdict model), plus where capture keeps evidence.
    environment_variables = merge(local.function_environment, { EVIDENCE_BUCKET = google_storage_bucket.evidence[0].name })
  }

  depends_on = [
    google_project_service.required,
    google_organization_iam_member.responder_org,
    google_scc_v2_organization_source_iam_member.responder_writes_own_source,
    google_organization_iam_audit_config.scc_data_write,
    google_project_iam_member.build,
  ]
}

# ---------------------------------------------------------------------------
# Observability: respondSocatFinding logs one "response outcome" line per
# delivery (lib/respond/responder.ts), counted here by outcome. Its dead
# letters go to the triage's dead-letter topic, which the triage's alert
# already watches; this alert adds approvals that failed permanently or were
# rejected (a mark naming no action, a notification that cannot be read).
# ---------------------------------------------------------------------------

resource "google_logging_metric" "response_outcomes" {
  count       = local.response_count
  project     = var.project_id
  name        = "${var.name_prefix}-response-outcomes"
  description = "scc-socat-triage outcome lines of ${google_cloudfunctions2_function.responder[0].name}, by outcome."
  filter = join("\n", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${google_cloudfunctions2_function.responder[0].name}\"",
    "jsonPayload.message=\"response outcome\"",
  ])

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Socat triage responses (${var.name_prefix})"

    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "responded, skipped, rejected, failed_permanent or retry"
    }
  }

  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
  }
}

# As for the triage's metrics (observability.tf): the alert must wait until
# Cloud Monitoring knows the new metric (hashicorp/terraform-provider-google issue 11102).
resource "time_sleep" "response_metrics_propagated" {
  count           = local.response_count
  create_duration = "${var.log_metric_propagation_seconds}s"

  triggers = {
    outcomes = google_logging_metric.response_outcomes[0].id
  }
}

resource "google_monitoring_alert_policy" "response_failures" {
  count                 = local.response_count
  project               = var.project_id
  display_name          = "scc-socat-triage ${var.name_prefix} (org ${var.organization_id}): responses failed or rejected"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channel_ids
  user_labels           = local.labels

  conditions {
    display_name = "An approval notification failed permanently or was rejected"

    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.response_outcomes[0].name}\" AND resource.type=\"cloud_run_revision\" AND metric.label.outcome=one_of(\"failed_permanent\", \"rejected\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "${var.alert_window_seconds}s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.outcome"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "${var.alert_auto_close_seconds}s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "scc-socat-triage (org ${var.organization_id}): a response approval was not carried out"
    content   = <<-EOT
      A socat_response mark on one of scc-socat-triage's findings of organization ${var.organization_id}
      was acked without being carried out or recorded: a mark naming an unknown action (it must be
      lower case, comma-separated: capture, block-c2, isolate, cordon, delete-pod), or a notification
      the responder could not read. Logs: resource.type="cloud_run_revision"
      resource.labels.service_name="${google_cloudfunctions2_function.responder[0].name}"
      jsonPayload.message="response outcome" (jsonPayload.outcome="failed_permanent" OR jsonPayload.outcome="rejected")
      in project ${var.project_id}; `reason` and `findingName` say what and which. Refused
      approvals (unknown approver, a refusal of the plan) are not alerted: they are recorded on
      the enrichment finding.
    EOT
  }

  depends_on = [time_sleep.response_metrics_propagated]
}
