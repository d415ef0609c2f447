# scc-socat-triage for one organization:
#
#   SCC notification config (streaming filter: socat category, ACTIVE)
#     → Pub/Sub topic <prefix>-notifications
#     → push subscription <prefix>-push (OIDC, bounded retries, dead letters)   [delivery.tf]
#     → Cloud Run function triageSocatFinding (nodejs24)                          [this file]
#     → enrichment finding in our own SCC source + security marks on the finding  [iam.tf]
#   Outcome log line → log-based metrics → alert policy with dead letters      [observability.tf]

locals {
  function_name = var.name_prefix

  labels = merge(var.labels, {
    app = "scc-socat-triage"
  })

  # SCC listFindings filter grammar; OR binds tighter than AND, the parentheses are for people.
  notification_filter = format(
    "(%s) AND state=\"ACTIVE\"",
    join(" OR ", [for category in var.triage_categories : format("category=%q", category)]),
  )

  # The function's runtime environment: exactly the production variables of
  # CONFIG_ENV_VARS in lib/config.ts (the *_EMULATOR_HOST ones are for tests
  # and the demo only), each from a typed variable with the code's default.
  # test/terraform/env.test.ts keeps the two lists in step.
  function_environment = {
    SCC_SOURCE_NAME           = google_scc_v2_organization_source.triage.name
    TRIAGE_CATEGORIES         = join(",", var.triage_categories)
    MAX_EVENT_AGE_SECONDS     = tostring(var.max_event_age_seconds)
    DRY_RUN                   = tostring(var.dry_run)
    LOG_LEVEL                 = var.log_level
    GATHER_DEADLINE_MS        = tostring(var.gather_deadline_ms)
    DISABLED_GATHERERS        = join(",", var.disabled_gatherers)
    RELATED_WINDOW_MINUTES    = tostring(var.related_window_minutes)
    LOG_WINDOW_BEFORE_MINUTES = tostring(var.log_window_before_minutes)
    LOG_WINDOW_AFTER_MINUTES  = tostring(var.log_window_after_minutes)
    LOG_ENTRIES_MAX           = tostring(var.log_query_max_entry_count)
    LOG_PAGES_MAX             = tostring(var.log_query_max_page_count)
    LOG_EXCERPT_ENTRIES       = tostring(var.log_excerpt_entry_count)
    LOG_LINE_MAX_CHARS        = tostring(var.log_line_max_chars)
    CACHE_TTL_SECONDS         = tostring(var.cache_ttl_seconds)
    CACHE_MAX_ENTRIES         = tostring(var.cache_max_entry_count)
    FANOUT_TOPIC                = var.fanout_topic
    VERDICT_WEIGHTS             = join(",", [for k, w in var.verdict_weights : "${k}=${w}"])
    ADMIN_PRINCIPALS            = join(",", var.admin_principals)
    TRUSTED_IMAGE_REGISTRIES    = join(",", var.trusted_image_registries)
    VERDICT_MALICIOUS_THRESHOLD = tostring(var.verdict_malicious_threshold_points)
    VERDICT_BENIGN_THRESHOLD    = tostring(var.verdict_benign_threshold_points)
    # The response (response.tf): the same environment serves respondSocatFinding.
    RESPONSE_APPROVERS          = join(",", var.response_approvers)
    AUTO_RESPONSE               = join(",", var.auto_response)
    AUTO_RESPONSE_MIN_SCORE     = tostring(coalesce(var.auto_response_min_score_points, var.verdict_malicious_threshold_points))
    TRIAGE_SERVICE_ACCOUNT      = google_service_account.function.email
    APPROVAL_LOG_WINDOW_MINUTES = tostring(var.approval_log_window_minutes)
  }

  required_apis = toset([
    "artifactregistry.googleapis.com",     # the function's container image
    "cloudbuild.googleapis.com",           # builds the function from the source archive
    "cloudfunctions.googleapis.com",       # google_cloudfunctions2_function
    "cloudresourcemanager.googleapis.com", # organization IAM
    "container.googleapis.com",            # the cluster gatherer's GetCluster (quota is charged to this project)
    "essentialcontacts.googleapis.com",    # the contacts gatherer's computeContacts
    "iam.googleapis.com",                  # service accounts, custom roles
    "logging.googleapis.com",              # log-based metrics
    "monitoring.googleapis.com",           # alert policy
    "pubsub.googleapis.com",               # notification and dead-letter topics
    "run.googleapis.com",                  # gen2 functions run on Cloud Run
    "securitycenter.googleapis.com",       # source, notification config, the function's writes
    "storage.googleapis.com",              # source archive bucket
  ])
}

resource "google_project_service" "required" {
  for_each = var.enable_apis ? local.required_apis : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# Read at plan time, billed to the host project (user_project_override in the
# examples): the Cloud Resource Manager API must already be on there, before
# the first plan (README, Deploying to a new organization).
data "google_project" "host" {
  project_id = var.project_id
}

# ---------------------------------------------------------------------------
# SCC: our own source, and the notification that feeds the function
# ---------------------------------------------------------------------------

# The enrichment findings go here (never into Container Threat Detection's own
# source). The SCC API has no delete for sources: `terraform destroy` only
# forgets it (see README, Tearing down).
resource "google_scc_v2_organization_source" "triage" {
  organization = var.organization_id
  display_name = var.scc_source_display_name
  description  = "Enrichment findings written by scc-socat-triage (${var.project_id}/${local.function_name}) for socat reverse shell detections."

  depends_on = [google_project_service.required]
}

resource "google_pubsub_topic" "notifications" {
  project = var.project_id
  name    = "${var.name_prefix}-notifications"
  labels  = local.labels

  depends_on = [google_project_service.required]
}

resource "google_scc_v2_organization_notification_config" "socat" {
  organization = var.organization_id
  # Organizations with data residency keep SCC data in eu, us, ... instead of global.
  location     = var.scc_location
  config_id    = var.name_prefix
  description  = "Streams ACTIVE socat reverse shell findings to ${google_pubsub_topic.notifications.id} for scc-socat-triage."
  pubsub_topic = google_pubsub_topic.notifications.id

  streaming_config {
    filter = local.notification_filter
  }

  # Streaming starts when the config exists: a finding notified before the
  # push subscription exists would reach a topic nobody subscribes to and be
  # dropped (Pub/Sub keeps messages only for existing subscriptions).
  depends_on = [google_pubsub_subscription.push]
}

# SCC's per-organization notification service agent publishes the findings.
resource "google_pubsub_topic_iam_member" "scc_publishes_notifications" {
  project = var.project_id
  topic   = google_pubsub_topic.notifications.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_scc_v2_organization_notification_config.socat.service_account}"
}

# ---------------------------------------------------------------------------
# The function
# ---------------------------------------------------------------------------

resource "google_storage_bucket" "function_source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Holds only build inputs that can be rebuilt from git.
  force_destroy = true
  labels        = local.labels

  depends_on = [google_project_service.required]
}

# Zips the packaged function. The object below is named by the archive's
# SHA-256: a code change is a new object name, hence a new build and revision.
data "archive_file" "function_source" {
  type             = "zip"
  source_dir       = var.function_source_dir
  output_path      = "${path.root}/.terraform/tmp/${var.name_prefix}-${var.organization_id}-function-source.zip"
  output_file_mode = "0644"
}

resource "google_storage_bucket_object" "function_source" {
  bucket = google_storage_bucket.function_source.name
  name   = "function-source-${data.archive_file.function_source.output_sha256}.zip"
  source = data.archive_file.function_source.output_path
}

resource "google_cloudfunctions2_function" "triage" {
  project     = var.project_id
  location    = var.region
  name        = local.function_name
  description = "Triages SCC '${join("', '", var.triage_categories)}' findings of organization ${var.organization_id}."
  labels      = local.labels

  build_config {
    runtime         = "nodejs24"
    entry_point     = "triageSocatFinding"
    # Never the project's default build account: since July 2024 new projects
    # may give it too few permissions, and the organization policy
    # iam.automaticIamGrantsForDefaultServiceAccounts (enforced in new
    # organizations) leaves it without any, so the first build fails
    # (https://cloud.google.com/functions/docs/securing/build-custom-sa;
    # GoogleCloudPlatform/terraform-google-cloud-functions issue 129, PR 130).
    service_account = "projects/${var.project_id}/serviceAccounts/${local.build_service_account_email}"

    source {
      storage_source {
        bucket = google_storage_bucket.function_source.name
        object = google_storage_bucket_object.function_source.name
      }
    }
  }

  # No event_trigger: delivery is our own push subscription (delivery.tf), the
  # only way to give it a dead-letter policy from Terraform. The function
  # registers itself with functions.cloudEvent(), so functions-framework serves
  # it as a CloudEvent function and converts the push body.
  service_config {
    service_account_email            = google_service_account.function.email
    timeout_seconds                  = var.function_timeout_seconds
    available_memory                 = "${var.function_memory_mib}Mi"
    available_cpu                    = tostring(var.function_vcpu_count)
    min_instance_count               = var.function_min_instance_count
    max_instance_count               = var.function_max_instance_count
    max_instance_request_concurrency = var.function_concurrent_requests_per_instance
    ingress_settings                 = var.function_ingress_settings
    # For clusters whose control plane answers only on a private IP (no DNS
    # endpoint with allow_external_traffic): the function reaches the VPC
    # through a Serverless VPC Access connector. The pinned provider (6.50)
    # has no Direct VPC egress fields on google_cloudfunctions2_function.
    vpc_connector                 = var.vpc_connector
    vpc_connector_egress_settings = var.vpc_connector == null ? null : var.vpc_connector_egress_settings
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_environment
  }

  lifecycle {
    precondition {
      condition     = var.function_concurrent_requests_per_instance == 1 || var.function_vcpu_count >= 1
      error_message = "Cloud Run needs function_vcpu_count >= 1 to serve more than one request per instance."
    }
    precondition {
      condition     = var.gather_deadline_ms < var.function_timeout_seconds * 1000
      error_message = "gather_deadline_ms must stay below function_timeout_seconds, or the function times out before it reports."
    }
    precondition {
      condition     = var.function_min_instance_count <= var.function_max_instance_count
      error_message = "function_min_instance_count cannot exceed function_max_instance_count."
    }
    # lib/config.ts refuses to start otherwise; caught at plan time instead of as a crashing function.
    precondition {
      condition     = var.verdict_benign_threshold_points < var.verdict_malicious_threshold_points
      error_message = "verdict_benign_threshold_points must be below verdict_malicious_threshold_points."
    }
    # The triage would request actions nobody carries out.
    precondition {
      condition     = length(var.auto_response) == 0 || var.enable_response
      error_message = "auto_response needs enable_response = true."
    }
    precondition {
      condition     = var.auto_response_min_score_points == null || coalesce(var.auto_response_min_score_points, 0) >= var.verdict_malicious_threshold_points
      error_message = "auto_response_min_score_points cannot be below verdict_malicious_threshold_points: AUTO_RESPONSE acts on likely_malicious verdicts only."
    }
  }

  # The function must hold its permissions before the first notification reaches it.
  depends_on = [
    google_project_service.required,
    google_organization_iam_member.function_org_wide,
    google_organization_iam_member.function_cluster_reads,
    google_folder_iam_member.function_cluster_reads,
    google_project_iam_member.function_cluster_reads,
    google_scc_v2_organization_source_iam_member.function_writes_own_source,
    google_project_iam_member.build,
  ]
}
