# Observability. The function logs ONE structured line per invocation:
#   {"severity": ..., "message": "triage outcome", "outcome": triaged|skipped|rejected|failed_permanent|retry,
#    "reason": ..., "findingName": ..., "durationMs": ...}
# Cloud Run turns it into a log entry whose jsonPayload holds those fields.
# Two log-based metrics count and time those lines; one alert policy fires on
# permanent failures/rejections and on notifications parked in the dead-letter
# subscription (retries that ran out, crashes, an unreachable function).

locals {
  outcome_log_filter = join("\n", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${google_cloudfunctions2_function.triage.name}\"",
    "jsonPayload.message=\"triage outcome\"",
  ])
}

# Counter of outcome lines by outcome. `reason` is left out of the labels on
# purpose (free-form values would explode the series); read it in the logs.
resource "google_logging_metric" "outcomes" {
  project     = var.project_id
  name        = "${var.name_prefix}-triage-outcomes"
  description = "scc-socat-triage outcome lines of ${google_cloudfunctions2_function.triage.name}, by outcome."
  filter      = local.outcome_log_filter

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Socat triage outcomes (${var.name_prefix})"

    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "triaged, skipped, rejected, failed_permanent or retry"
    }
  }

  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
  }
}

# Distribution of durationMs by outcome: how close invocations run to the timeout.
resource "google_logging_metric" "duration" {
  project         = var.project_id
  name            = "${var.name_prefix}-triage-duration"
  description     = "Duration of one scc-socat-triage invocation of ${google_cloudfunctions2_function.triage.name} (durationMs), by outcome."
  filter          = local.outcome_log_filter
  value_extractor = "EXTRACT(jsonPayload.durationMs)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "ms"
    display_name = "Socat triage duration (${var.name_prefix})"

    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "triaged, skipped, rejected, failed_permanent or retry"
    }
  }

  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
  }

  # 100 ms × 1.5^k: 100 ms to ~ 4 min in 20 buckets.
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 20
      growth_factor      = 1.5
      scale              = 100
    }
  }
}

# A log-based metric can be missing from Cloud Monitoring for up to 10 minutes
# after it is created, and an alert policy filtering on it fails with 404
# "Cannot find metric(s)" meanwhile (hashicorp/terraform-provider-google issue
# 11102, open). The wait runs once, when the metrics are first created (or
# renamed); later applies do not wait.
resource "time_sleep" "log_metrics_propagated" {
  create_duration = "${var.log_metric_propagation_seconds}s"

  triggers = {
    outcomes = google_logging_metric.outcomes.id
    duration = google_logging_metric.duration.id
  }
}

resource "google_monitoring_alert_policy" "triage_failures" {
  project               = var.project_id
  display_name          = "scc-socat-triage ${var.name_prefix} (org ${var.organization_id}): failures or dead letters"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channel_ids
  user_labels           = local.labels

  conditions {
    display_name = "A notification failed permanently or was rejected (acked without enrichment)"

    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.outcomes.name}\" AND resource.type=\"cloud_run_revision\" AND metric.label.outcome=one_of(\"failed_permanent\", \"rejected\")"
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

  conditions {
    display_name = "Notifications parked in the dead-letter subscription"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=\"${google_pubsub_subscription.dead_letter.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "${var.alert_window_seconds}s"
        per_series_aligner = "ALIGN_MAX"
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
    subject   = "scc-socat-triage (org ${var.organization_id}): notification not triaged"
    content   = <<-EOT
      A socat reverse shell finding of organization ${var.organization_id} was not enriched.

      * **Failed permanently / rejected**: the function acked the notification after a
        non-retryable error. Logs: `${replace(local.outcome_log_filter, "\n", " ")} (jsonPayload.outcome="failed_permanent" OR jsonPayload.outcome="rejected")`
        in project ${var.project_id}; `reason` and `findingName` say what and which.
      * **Dead letters**: every delivery attempt failed (${var.max_delivery_attempts} attempts).
        The notifications wait in subscription `${google_pubsub_subscription.dead_letter.id}`;
        see the module README, "Dead letters", to inspect and replay them.
    EOT
  }

  depends_on = [time_sleep.log_metrics_propagated]
}
