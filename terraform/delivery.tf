# Delivery: notifications topic → push subscription → function, with bounded
# retries and a dead-letter topic.
#
# Why a push subscription and not the function's event_trigger: the
# subscription Eventarc creates for a trigger cannot be given a dead-letter
# policy from Terraform (terraform-provider-google #25069), so a notification
# whose delivery keeps failing would be retried until the 7-day retention
# drops it, silently. A subscription of our own carries dead_letter_policy and
# retry_policy, and pushes with an OIDC token of a dedicated identity, which is
# the only principal allowed to invoke the function.
#
# Contract with the function: it answers 2xx to ack (triaged, skipped,
# rejected, failed_permanent) and non-2xx to be retried (retry); after
# max_delivery_attempts Pub/Sub forwards the notification to the dead-letter
# topic, where the dead-letter subscription keeps it for inspection and replay.

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-push"
  display_name = "scc-socat-triage push (${var.organization_id})"
  description  = "Identity in the OIDC token of the ${var.name_prefix}-push subscription; may only invoke the triage and response functions."

  depends_on = [google_project_service.required]
}

# The push identity may invoke the function's Cloud Run service, nothing else.
resource "google_cloud_run_v2_service_iam_member" "push_invokes_function" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.triage.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

locals {
  # Google-managed; exists once the Pub/Sub API has been used in the project
  # (the topics below are created first).
  pubsub_service_agent = "serviceAccount:service-${data.google_project.host.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

# Pub/Sub signs the push requests' OIDC tokens as the push identity.
resource "google_service_account_iam_member" "pubsub_signs_push_tokens" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent

  depends_on = [google_pubsub_topic.notifications]
}

resource "google_pubsub_topic" "dead_letter" {
  project = var.project_id
  name    = "${var.name_prefix}-dead-letter"
  labels  = local.labels

  depends_on = [google_project_service.required]
}

# Keeps parked notifications until someone inspects and replays them
# (README: Dead letters). Acked messages are retained too, so an ack by
# mistake can be undone with `gcloud pubsub subscriptions seek`.
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter.id
  labels                     = local.labels
  ack_deadline_seconds       = 60
  message_retention_duration = "${var.dead_letter_retention_seconds}s"
  retain_acked_messages      = true

  # Never expire, however long nothing reads it.
  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "push" {
  project = var.project_id
  name    = "${var.name_prefix}-push"
  topic   = google_pubsub_topic.notifications.id
  labels  = local.labels

  # For a push subscription: how long Pub/Sub waits for the function's answer.
  ack_deadline_seconds       = var.function_timeout_seconds + 30
  message_retention_duration = "${var.message_retention_seconds}s"

  push_config {
    # functions-framework takes the topic from the request path.
    push_endpoint = "${google_cloudfunctions2_function.triage.service_config[0].uri}/${google_pubsub_topic.notifications.id}"

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.triage.service_config[0].uri
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

  lifecycle {
    precondition {
      condition     = var.retry_minimum_backoff_seconds <= var.retry_maximum_backoff_seconds
      error_message = "retry_minimum_backoff_seconds cannot exceed retry_maximum_backoff_seconds."
    }
  }

  # No delivery before the push identity can invoke the function and sign its tokens.
  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invokes_function,
    google_service_account_iam_member.pubsub_signs_push_tokens,
  ]
}

# Dead-lettering needs the Pub/Sub service agent to publish to the dead-letter
# topic and to ack the original on the source subscription.
resource "google_pubsub_topic_iam_member" "pubsub_publishes_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_forwards_dead_letters" {
  project      = var.project_id
  subscription = google_pubsub_subscription.push.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
