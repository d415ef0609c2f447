# ---------------------------------------------------------------------------
# Where it runs
# ---------------------------------------------------------------------------

variable "organization_id" {
  type        = string
  description = "Numeric id of the organization whose SCC findings are triaged (no `organizations/` prefix). One module instance per organization."

  validation {
    condition     = can(regex("^[0-9]{1,32}$", var.organization_id))
    error_message = "organization_id must be the numeric organization id, e.g. \"123456789012\"."
  }
}

variable "project_id" {
  type        = string
  description = "Id of the project that hosts the function, the Pub/Sub topics, the metrics and the alert policy."
}

variable "region" {
  type        = string
  description = "Region of the function and of its source bucket, e.g. \"europe-west1\"."
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name (function, topics, subscriptions, service accounts, metrics, custom roles). Must differ between instances that share a project. 4-25 characters: lowercase letters, digits, hyphens."
  default     = "socat-triage"

  validation {
    # The longest derived name is the service account id "<prefix>-push" (6-30 characters).
    condition     = can(regex("^[a-z][a-z0-9-]{2,23}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 4-25 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "scc_location" {
  type        = string
  description = "SCC location of the notification config: \"global\", or the data residency location of an organization with data residency controls (e.g. \"eu\", \"us\")."
  default     = "global"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.scc_location))
    error_message = "scc_location must be an SCC location id such as global, eu or us."
  }
}

variable "read_scope" {
  type = object({
    folder_ids  = optional(list(string), [])
    project_ids = optional(list(string), [])
  })
  description = "Where the function may read clusters, pods, nodes, namespaces, logs and contacts: the whole organization when both lists are empty (default), else only the folders (numeric ids) or only the projects (ids) listed. Exactly one kind."
  default     = { folder_ids = [], project_ids = [] }

  validation {
    condition     = length(var.read_scope.folder_ids) == 0 || length(var.read_scope.project_ids) == 0
    error_message = "read_scope takes folder_ids or project_ids, not both (both empty: the organization)."
  }
  validation {
    condition     = alltrue([for f in var.read_scope.folder_ids : can(regex("^[0-9]{1,32}$", f))])
    error_message = "read_scope.folder_ids must be numeric folder ids, without the folders/ prefix."
  }
  validation {
    condition     = alltrue([for p in var.read_scope.project_ids : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", p))])
    error_message = "read_scope.project_ids must be project ids (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every resource that takes labels."
  default     = {}
}

variable "enable_apis" {
  type        = bool
  description = "Enable the Google APIs the module needs in project_id. Set to false when the project factory already does it."
  default     = true
}

# ---------------------------------------------------------------------------
# The function's code and runtime configuration (lib/config.ts CONFIG_ENV_VARS)
# ---------------------------------------------------------------------------

variable "function_source_dir" {
  type        = string
  description = "Directory holding the packaged function (output of terraform/scripts/package-function-source.mjs: the esbuild bundle in bundle/, package.json whose postinstall fills the bundle's compile cache with the runtime's Node, package-lock.json). It is zipped and uploaded under a name made of its SHA-256, so any code change redeploys the function."
}

variable "scc_source_display_name" {
  type        = string
  description = "Display name of the project's own SCC source, which receives the enrichment findings (unique in the organization, at most 32 characters)."
  default     = "Socat reverse shell triage"

  validation {
    condition     = can(regex("^[\\p{L}\\p{N}]([\\p{L}\\p{N}_ -]{0,30}[\\p{L}\\p{N}])?$", var.scc_source_display_name))
    error_message = "scc_source_display_name must be 1-32 letters, digits, spaces, hyphens or underscores, starting and ending with a letter or digit."
  }
}

variable "triage_categories" {
  type        = list(string)
  description = "Finding categories to triage. They make both the notification filter (category = ... AND state = \"ACTIVE\") and the function's TRIAGE_CATEGORIES."
  default     = ["Execution: Socat Reverse Shell Detected"]

  validation {
    condition     = length(var.triage_categories) > 0 && alltrue([for c in var.triage_categories : trimspace(c) != "" && !strcontains(c, ",") && !strcontains(c, "\"")])
    error_message = "triage_categories needs at least one category; categories cannot be blank or contain commas or double quotes."
  }
}

variable "max_event_age_seconds" {
  type        = number
  description = "MAX_EVENT_AGE_SECONDS: a delivery published longer ago than this is acked with an error log instead of being triaged."
  default     = 86400

  validation {
    condition     = var.max_event_age_seconds >= 60 && var.max_event_age_seconds <= 2678400 && floor(var.max_event_age_seconds) == var.max_event_age_seconds
    error_message = "max_event_age_seconds must be a whole number between 60 and 2678400 (31 days), the range lib/config.ts accepts."
  }
}

variable "dry_run" {
  type        = bool
  description = "DRY_RUN: triage and log the report, write nothing to SCC."
  default     = false
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL of the function (pino): fatal, error, warn, info, debug, trace or silent."
  default     = "info"

  validation {
    condition     = contains(["fatal", "error", "warn", "info", "debug", "trace", "silent"], var.log_level)
    error_message = "log_level must be one of fatal, error, warn, info, debug, trace, silent."
  }
}

variable "gather_deadline_ms" {
  type        = number
  description = "GATHER_DEADLINE_MS: shared deadline of all gatherers; a lookup still running then becomes a gap in the report. Must stay below the function timeout."
  default     = 20000

  validation {
    condition     = var.gather_deadline_ms >= 100 && var.gather_deadline_ms <= 300000 && floor(var.gather_deadline_ms) == var.gather_deadline_ms
    error_message = "gather_deadline_ms must be a whole number between 100 and 300000, the range lib/config.ts accepts."
  }
}

variable "disabled_gatherers" {
  type        = list(string)
  description = "DISABLED_GATHERERS: gatherer sections switched off (relatedFindings, cluster, node, pod, podLogs, auditLogs, nodeLogs, nodeK8sLogs, namespace, contacts)."
  default     = []

  validation {
    condition     = alltrue([for g in var.disabled_gatherers : contains(["relatedFindings", "cluster", "node", "pod", "podLogs", "auditLogs", "nodeLogs", "nodeK8sLogs", "namespace", "contacts"], g)])
    error_message = "disabled_gatherers may only name relatedFindings, cluster, node, pod, podLogs, auditLogs, nodeLogs, nodeK8sLogs, namespace or contacts."
  }
}

variable "related_window_minutes" {
  type        = number
  description = "RELATED_WINDOW_MINUTES: related findings are those of the same cluster within this many minutes of the finding, either side."
  default     = 60

  validation {
    condition     = var.related_window_minutes >= 1 && var.related_window_minutes <= 10080 && floor(var.related_window_minutes) == var.related_window_minutes
    error_message = "related_window_minutes must be a whole number between 1 and 10080 (7 days)."
  }
}

variable "log_window_before_minutes" {
  type        = number
  description = "LOG_WINDOW_BEFORE_MINUTES: log queries start this many minutes before the finding."
  default     = 30

  validation {
    condition     = var.log_window_before_minutes >= 0 && var.log_window_before_minutes <= 1440 && floor(var.log_window_before_minutes) == var.log_window_before_minutes
    error_message = "log_window_before_minutes must be a whole number between 0 and 1440."
  }
}

variable "log_window_after_minutes" {
  type        = number
  description = "LOG_WINDOW_AFTER_MINUTES: log queries end this many minutes after the finding."
  default     = 10

  validation {
    condition     = var.log_window_after_minutes >= 0 && var.log_window_after_minutes <= 1440 && floor(var.log_window_after_minutes) == var.log_window_after_minutes
    error_message = "log_window_after_minutes must be a whole number between 0 and 1440."
  }
}

variable "log_query_max_entry_count" {
  type        = number
  description = "LOG_ENTRIES_MAX: at most this many entries are read per log query, over all its pages."
  default     = 1000

  validation {
    condition     = var.log_query_max_entry_count >= 1 && var.log_query_max_entry_count <= 5000 && floor(var.log_query_max_entry_count) == var.log_query_max_entry_count
    error_message = "log_query_max_entry_count must be a whole number between 1 and 5000."
  }
}

variable "log_query_max_page_count" {
  type        = number
  description = "LOG_PAGES_MAX: at most this many ListLogEntries pages per log query; a query stopped by it is marked incomplete."
  default     = 5

  validation {
    condition     = var.log_query_max_page_count >= 1 && var.log_query_max_page_count <= 50 && floor(var.log_query_max_page_count) == var.log_query_max_page_count
    error_message = "log_query_max_page_count must be a whole number between 1 and 50."
  }
}

variable "log_excerpt_entry_count" {
  type        = number
  description = "LOG_EXCERPT_ENTRIES: the report keeps the first and last this many entries of each log query."
  default     = 5

  validation {
    condition     = var.log_excerpt_entry_count >= 0 && var.log_excerpt_entry_count <= 50 && floor(var.log_excerpt_entry_count) == var.log_excerpt_entry_count
    error_message = "log_excerpt_entry_count must be a whole number between 0 and 50."
  }
}

variable "log_line_max_chars" {
  type        = number
  description = "LOG_LINE_MAX_CHARS: each log excerpt line is capped at this many characters."
  default     = 300

  validation {
    condition     = var.log_line_max_chars >= 40 && var.log_line_max_chars <= 4096 && floor(var.log_line_max_chars) == var.log_line_max_chars
    error_message = "log_line_max_chars must be a whole number between 40 and 4096."
  }
}

variable "cache_ttl_seconds" {
  type        = number
  description = "CACHE_TTL_SECONDS: how long an instance reuses cluster, node and related-findings lookups."
  default     = 300

  validation {
    condition     = var.cache_ttl_seconds >= 0 && var.cache_ttl_seconds <= 86400 && floor(var.cache_ttl_seconds) == var.cache_ttl_seconds
    error_message = "cache_ttl_seconds must be a whole number between 0 and 86400."
  }
}

variable "cache_max_entry_count" {
  type        = number
  description = "CACHE_MAX_ENTRIES: how many lookups an instance keeps at most."
  default     = 1000

  validation {
    condition     = var.cache_max_entry_count >= 1 && var.cache_max_entry_count <= 100000 && floor(var.cache_max_entry_count) == var.cache_max_entry_count
    error_message = "cache_max_entry_count must be a whole number between 1 and 100000."
  }
}

variable "fanout_topic" {
  type        = string
  description = "FANOUT_TOPIC: an existing projects/P/topics/T that receives one triage-completed message per triaged finding (chat, ticketing); empty disables the fan-out."
  default     = ""

  validation {
    condition     = var.fanout_topic == "" || can(regex("^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.fanout_topic))
    error_message = "fanout_topic must be empty or projects/PROJECT_ID/topics/TOPIC."
  }
}

variable "verdict_weights" {
  type        = map(number)
  description = "VERDICT_WEIGHTS: signal id to weight overrides of the verdict model (README: Verdict model); empty keeps the documented defaults."
  default     = {}

  validation {
    condition     = alltrue([for k, w in var.verdict_weights : can(regex("^[a-z][a-z0-9_]*$", k)) && floor(w) == w && w >= -1000 && w <= 1000])
    error_message = "verdict_weights keys are signal ids (lower_snake_case) and weights whole numbers between -1000 and 1000."
  }
}

variable "admin_principals" {
  type        = list(string)
  description = "ADMIN_PRINCIPALS: principals whose kubectl exec counts as expected admin work: exact emails or *@domain."
  default     = []
}

variable "trusted_image_registries" {
  type        = list(string)
  description = "TRUSTED_IMAGE_REGISTRIES: image prefixes of the organization's own registries (e.g. us-docker.pkg.dev/my-org-); empty makes the untrusted_image signal unavailable."
  default     = []
}

variable "verdict_malicious_threshold_points" {
  type        = number
  description = "VERDICT_MALICIOUS_THRESHOLD: a score at or above this is likely_malicious."
  default     = 60
}

variable "verdict_benign_threshold_points" {
  type        = number
  description = "VERDICT_BENIGN_THRESHOLD: a score at or below this is likely_benign_admin; must be below the malicious threshold (checked at plan time; the function refuses to start otherwise)."
  default     = -20
}

# ---------------------------------------------------------------------------
# Function sizing
# ---------------------------------------------------------------------------

variable "function_timeout_seconds" {
  type        = number
  description = "Function timeout. The push subscription waits this long plus 30 s for an answer before it counts a delivery attempt as failed."
  default     = 300

  validation {
    condition     = var.function_timeout_seconds >= 10 && var.function_timeout_seconds <= 570
    error_message = "function_timeout_seconds must be between 10 and 570: a push subscription's ack deadline (timeout + 30 s) cannot exceed 600 s."
  }
}

variable "function_memory_mib" {
  type        = number
  description = "Memory of one function instance, in MiB. Sized for function_concurrent_requests_per_instance: Node gives the heap a quarter of it. With the 128 MiB heap of 512 MiB, 80 triages in flight still fit (a 1,000-finding burst: no loss, 311 MB peak RSS) but garbage collection took 312 s of CPU instead of 56 s, more than one vCPU gives (README, Performance). Lower it together with the concurrency."
  default     = 1024

  validation {
    condition     = var.function_memory_mib >= 128 && var.function_memory_mib <= 32768
    error_message = "function_memory_mib must be between 128 and 32768."
  }
}

variable "function_vcpu_count" {
  type        = number
  description = "vCPUs of one function instance (fractions below 1 allowed, e.g. 0.583). More than one concurrent request per instance needs at least 1."
  default     = 1

  validation {
    condition     = var.function_vcpu_count > 0 && var.function_vcpu_count <= 8
    error_message = "function_vcpu_count must be greater than 0 and at most 8."
  }
}

variable "function_min_instance_count" {
  type        = number
  description = "Instances kept warm. 0 lets the function scale to zero between findings."
  default     = 0

  validation {
    condition     = var.function_min_instance_count >= 0
    error_message = "function_min_instance_count cannot be negative."
  }
}

variable "function_max_instance_count" {
  type        = number
  description = "Upper bound on instances. A triage makes 3 SCC writes and SCC allows 1,000 writes per minute per project, so a burst drains at about 5.5 findings per second however many instances run, and one instance already keeps that quota busy. More instances only add triages waiting out the quota (up to a minute each, then back to Pub/Sub); the second one is for availability (README, Performance)."
  default     = 2

  validation {
    condition     = var.function_max_instance_count >= 1
    error_message = "function_max_instance_count must be at least 1."
  }
}

variable "function_concurrent_requests_per_instance" {
  type        = number
  description = "Notifications one instance handles at the same time (Cloud Run concurrency). A triage mostly waits on API calls and findings of one cluster share its lookups, so one vCPU serves many at once (README, Performance). Needs function_vcpu_count >= 1 and memory to match (function_memory_mib)."
  default     = 80

  validation {
    condition     = var.function_concurrent_requests_per_instance >= 1 && var.function_concurrent_requests_per_instance <= 1000
    error_message = "function_concurrent_requests_per_instance must be between 1 and 1000."
  }
}

variable "function_ingress_settings" {
  type        = string
  description = "Who may reach the function's URL at the network level. ALLOW_INTERNAL_ONLY admits Pub/Sub push from the same project (on the run.app URL); IAM (roles/run.invoker for the push identity only) applies in every case."
  default     = "ALLOW_INTERNAL_ONLY"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.function_ingress_settings)
    error_message = "function_ingress_settings must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "build_service_account_email" {
  type        = string
  description = "An existing service account for Cloud Build to build the function as (it needs roles/logging.logWriter, roles/artifactregistry.writer and roles/storage.objectAdmin in project_id). null = the module creates <prefix>-build with those roles."
  default     = null
}

variable "vpc_connector" {
  type        = string
  description = "Serverless VPC Access connector (projects/P/locations/R/connectors/C) the function sends traffic through, for clusters whose control plane answers only on a private IP and has no DNS endpoint open to it. null = no VPC egress."
  default     = null

  validation {
    condition     = var.vpc_connector == null || can(regex("^projects/[^/]+/locations/[^/]+/connectors/[^/]+$", var.vpc_connector))
    error_message = "vpc_connector must be null or projects/PROJECT/locations/REGION/connectors/NAME."
  }
}

variable "vpc_connector_egress_settings" {
  type        = string
  description = "Which traffic goes through vpc_connector: PRIVATE_RANGES_ONLY (private control plane IPs; Google APIs stay direct) or ALL_TRAFFIC."
  default     = "PRIVATE_RANGES_ONLY"

  validation {
    condition     = contains(["PRIVATE_RANGES_ONLY", "ALL_TRAFFIC"], var.vpc_connector_egress_settings)
    error_message = "vpc_connector_egress_settings must be PRIVATE_RANGES_ONLY or ALL_TRAFFIC."
  }
}

# ---------------------------------------------------------------------------
# Delivery: push subscription, retries, dead letters
# ---------------------------------------------------------------------------

variable "max_delivery_attempts" {
  type        = number
  description = "Delivery attempts before Pub/Sub parks a notification in the dead-letter topic."
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "retry_minimum_backoff_seconds" {
  type        = number
  description = "Shortest wait before redelivering a notification the function failed (exponential backoff starts here)."
  default     = 10

  validation {
    condition     = var.retry_minimum_backoff_seconds >= 0 && var.retry_minimum_backoff_seconds <= 600
    error_message = "retry_minimum_backoff_seconds must be between 0 and 600."
  }
}

variable "retry_maximum_backoff_seconds" {
  type        = number
  description = "Longest wait between two delivery attempts of the same notification."
  default     = 600

  validation {
    condition     = var.retry_maximum_backoff_seconds >= 0 && var.retry_maximum_backoff_seconds <= 600
    error_message = "retry_maximum_backoff_seconds must be between 0 and 600."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the push subscription keeps a notification it could not deliver yet (e.g. while the function is down)."
  default     = 604800

  validation {
    condition     = var.message_retention_seconds >= 600 && var.message_retention_seconds <= 604800
    error_message = "message_retention_seconds must be between 600 (10 minutes) and 604800 (7 days)."
  }
}

variable "dead_letter_retention_seconds" {
  type        = number
  description = "How long the dead-letter subscription keeps parked notifications (and acked ones, for seek-based replay)."
  default     = 604800

  validation {
    condition     = var.dead_letter_retention_seconds >= 600 && var.dead_letter_retention_seconds <= 604800
    error_message = "dead_letter_retention_seconds must be between 600 (10 minutes) and 604800 (7 days)."
  }
}

# ---------------------------------------------------------------------------
# Observability
# ---------------------------------------------------------------------------

variable "notification_channel_ids" {
  type        = list(string)
  description = "Cloud Monitoring notification channels (projects/P/notificationChannels/N) alerted on triage failures and dead letters. Empty: the alert policy still opens incidents, visible in the console."
  default     = []
}

variable "alert_window_seconds" {
  type        = number
  description = "Alignment window of the alert conditions: failures are summed, and the dead-letter backlog maximised, over this many seconds."
  default     = 300

  validation {
    condition     = var.alert_window_seconds >= 60 && var.alert_window_seconds <= 86400
    error_message = "alert_window_seconds must be between 60 and 86400."
  }
}

variable "log_metric_propagation_seconds" {
  type        = number
  description = "How long the first apply waits between creating the log-based metrics and the alert policy that filters on them (Cloud Monitoring can take up to 10 minutes to know a new metric)."
  default     = 600

  validation {
    condition     = var.log_metric_propagation_seconds >= 0 && var.log_metric_propagation_seconds <= 1800
    error_message = "log_metric_propagation_seconds must be between 0 and 1800."
  }
}

variable "alert_auto_close_seconds" {
  type        = number
  description = "An open incident closes by itself after this many seconds without a failure or a parked notification."
  default     = 86400

  validation {
    condition     = var.alert_auto_close_seconds >= 1800 && var.alert_auto_close_seconds <= 604800
    error_message = "alert_auto_close_seconds must be between 1800 and 604800."
  }
}

# ---------------------------------------------------------------------------
# Responding from the console (issue #15): response.tf
# ---------------------------------------------------------------------------

variable "enable_response" {
  type        = bool
  description = "Deploy respondSocatFinding: engineers approve actions by setting the socat_response mark on the enrichment finding (README: the approval model). Also enables DATA_WRITE audit logs of securitycenter.googleapis.com on the organization, from which the approver is read."
  default     = false
}

variable "response_approvers" {
  type        = list(string)
  description = "RESPONSE_APPROVERS: principals whose socat_response mark is carried out: exact emails or *@domain (ADMIN_PRINCIPALS syntax). Empty: every console approval is refused."
  default     = []
}

variable "auto_response" {
  type        = list(string)
  description = "AUTO_RESPONSE: actions the triage requests itself for likely_malicious verdicts at or above auto_response_min_score_points (capture, block-c2, isolate, cordon, delete-pod). Needs enable_response."
  default     = []

  validation {
    condition     = alltrue([for a in var.auto_response : contains(["capture", "block-c2", "isolate", "cordon", "delete-pod"], a)])
    error_message = "auto_response lists only capture, block-c2, isolate, cordon, delete-pod."
  }
}

variable "auto_response_min_score_points" {
  type        = number
  description = "AUTO_RESPONSE_MIN_SCORE: the lowest verdict score auto_response acts on; null: verdict_malicious_threshold_points."
  default     = null
}

variable "approval_log_window_minutes" {
  type        = number
  description = "APPROVAL_LOG_WINDOW_MINUTES: how many minutes before the notification the Data Access audit log is searched for who set the mark."
  default     = 60

  validation {
    condition     = var.approval_log_window_minutes >= 1 && var.approval_log_window_minutes <= 10080
    error_message = "approval_log_window_minutes must be between 1 and 10080."
  }
}

variable "manage_scc_data_access_audit_config" {
  type        = bool
  description = "With enable_response: enable DATA_WRITE audit logs of securitycenter.googleapis.com on the organization (google_organization_iam_audit_config is authoritative for that service: set false and enable them yourself if the organization already manages that audit config)."
  default     = true
}

variable "evidence_retention_seconds" {
  type        = number
  description = "With enable_response: how long the evidence bucket keeps every object unalterable (its retention policy); default 365 days."
  default     = 31536000

  validation {
    # Cloud Storage's maximum retention period is 3,155,760,000 seconds (100 years).
    condition     = var.evidence_retention_seconds >= 86400 && var.evidence_retention_seconds <= 3155760000
    error_message = "evidence_retention_seconds must be between 86400 (one day) and 3155760000 (100 years)."
  }
}

variable "evidence_retention_locked" {
  type        = bool
  description = "Lock the evidence bucket's retention policy. Irreversible: once locked, the period can only grow and the bucket cannot be deleted before its objects expire."
  default     = false
}
