# The function's identity and least privilege.
#
# The function's service account holds custom roles and nothing else.
# Together they list exactly lib/permissions.ts REQUIRED_PERMISSIONS
# (test/terraform/permissions.test.ts fails otherwise); each permission is
# granted at the narrowest scope the provider allows:
#
# - securitycenter.findings.update → only on our own SCC source, through
#   google_scc_v2_organization_source_iam_member: the function cannot create
#   or change findings in any other source (CTD's included).
# - securitycenter.findingsecuritymarks.update and securitycenter.findings.list
#   → the organization. The marks go on the original finding, which lives in
#   Container Threat Detection's Google-managed source: its id is not known to
#   Terraform (the provider has no data source for SCC sources) and it is not
#   ours to change the IAM of. The related-findings query lists
#   organizations/ORG/sources/- (lib/gather/related-findings.ts).
# - What the gatherers read of clusters, pods, nodes and logs → var.read_scope:
#   the organization (default), or only the folders or projects that hold GKE
#   clusters. The function parses attacker-controlled data; narrowing what it
#   can read narrows what a compromise of it could.
#
# Every custom role is created after iam.googleapis.com is on in the host
# project: organization-level IAM calls are billed to it
# (user_project_override), and on a fresh project the API is enabled in the
# same apply.

resource "google_service_account" "function" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-fn"
  display_name = "scc-socat-triage function (${var.organization_id})"
  description  = "Runtime identity of the ${local.function_name} function; holds only the custom roles in iam.tf."

  depends_on = [google_project_service.required]
}

locals {
  role_id_prefix  = replace(var.name_prefix, "-", "_")
  function_member = "serviceAccount:${google_service_account.function.email}"
}

resource "google_organization_iam_custom_role" "own_source_writer" {
  org_id      = var.organization_id
  role_id     = "${local.role_id_prefix}_own_source_writer"
  title       = "scc-socat-triage: write our own SCC source"
  description = "Granted on the ${var.scc_source_display_name} source only, to the ${local.function_name} function."
  stage       = "GA"
  permissions = [
    # lib/scc/writeback.ts: updateFinding upserts the enrichment finding in our own source
    "securitycenter.findings.update",
  ]

  depends_on = [google_project_service.required]
}

resource "google_scc_v2_organization_source_iam_member" "function_writes_own_source" {
  organization = var.organization_id
  source       = google_scc_v2_organization_source.triage.name
  role         = google_organization_iam_custom_role.own_source_writer.name
  member       = local.function_member
}

resource "google_organization_iam_custom_role" "org_wide" {
  org_id      = var.organization_id
  role_id     = "${local.role_id_prefix}_org_wide"
  title       = "scc-socat-triage: organization-wide SCC triage"
  description = "What the ${local.function_name} function needs of SCC across the organization: the related-findings query and marks on the original findings."
  stage       = "GA"
  permissions = [
    # lib/scc/writeback.ts: updateSecurityMarks writes socat_triage_* marks on the original finding
    "securitycenter.findingsecuritymarks.update",
    # lib/gather/registry.ts: gatherer relatedFindings (SCC v2 ListFindings across the organization)
    "securitycenter.findings.list",
  ]

  depends_on = [google_project_service.required]
}

resource "google_organization_iam_custom_role" "cluster_reads" {
  org_id      = var.organization_id
  role_id     = "${local.role_id_prefix}_cluster_reads"
  title       = "scc-socat-triage: read triage context"
  description = "What the ${local.function_name} function reads of GKE clusters, Kubernetes objects, logs and contacts; granted on read_scope only."
  stage       = "GA"
  permissions = [
    # lib/gather/registry.ts: gatherer cluster (GKE ClusterManager.GetCluster)
    "container.clusters.get",
    # lib/gather/registry.ts: gatherers node, pod, namespace (Kubernetes API through GKE's DNS-based endpoint: IAM checks this before the request reaches the cluster)
    "container.clusters.connect",
    # lib/gather/registry.ts: gatherer node (Kubernetes core/v1 nodes get)
    "container.nodes.get",
    # lib/gather/registry.ts: gatherer pod (Kubernetes core/v1 pods get)
    "container.pods.get",
    # lib/gather/registry.ts: gatherer pod (owner chain: apps/v1 replicasets get)
    "container.replicaSets.get",
    # lib/gather/registry.ts: gatherer pod (owner chain: apps/v1 deployments get)
    "container.deployments.get",
    # lib/gather/registry.ts: gatherer pod (owner chain: apps/v1 statefulsets get)
    "container.statefulSets.get",
    # lib/gather/registry.ts: gatherer pod (owner chain: apps/v1 daemonsets get)
    "container.daemonSets.get",
    # lib/gather/registry.ts: gatherer pod (owner chain: batch/v1 jobs get)
    "container.jobs.get",
    # lib/gather/registry.ts: gatherer pod (owner chain: batch/v1 cronjobs get)
    "container.cronJobs.get",
    # lib/gather/registry.ts: gatherers podLogs, auditLogs, nodeLogs, nodeK8sLogs (Cloud Logging entries.list, admin activity audit logs included)
    "logging.logEntries.list",
    # lib/gather/registry.ts: gatherer namespace (Kubernetes core/v1 namespaces get: owner labels)
    "container.namespaces.get",
    # lib/gather/registry.ts: gatherer contacts (Essential Contacts computeContacts; inherited contacts need it on folders and the organization too)
    "essentialcontacts.contacts.list",
  ]

  depends_on = [google_project_service.required]
}

locals {
  # Exactly one kind is set (validated in variables.tf).
  read_scope_kind = length(var.read_scope.folder_ids) > 0 ? "folders" : length(var.read_scope.project_ids) > 0 ? "projects" : "organization"
}

# The read role is granted on read_scope and nowhere else: one of the three below.
resource "google_organization_iam_member" "function_cluster_reads" {
  count  = local.read_scope_kind == "organization" ? 1 : 0
  org_id = var.organization_id
  role   = google_organization_iam_custom_role.cluster_reads.name
  member = local.function_member
}

resource "google_folder_iam_member" "function_cluster_reads" {
  for_each = local.read_scope_kind == "folders" ? toset(var.read_scope.folder_ids) : toset([])
  folder   = "folders/${each.value}"
  role     = google_organization_iam_custom_role.cluster_reads.name
  member   = local.function_member
}

resource "google_project_iam_member" "function_cluster_reads" {
  for_each = local.read_scope_kind == "projects" ? toset(var.read_scope.project_ids) : toset([])
  project  = each.value
  role     = google_organization_iam_custom_role.cluster_reads.name
  member   = local.function_member
}

resource "google_organization_iam_member" "function_org_wide" {
  org_id = var.organization_id
  role   = google_organization_iam_custom_role.org_wide.name
  member = local.function_member
}

# The fan-out (optional): publishing to FANOUT_TOPIC, granted on that topic only.
resource "google_organization_iam_custom_role" "fanout_publisher" {
  count       = var.fanout_topic == "" ? 0 : 1
  org_id      = var.organization_id
  role_id     = "${local.role_id_prefix}_fanout_publisher"
  title       = "scc-socat-triage: publish triage results"
  description = "Granted on ${var.fanout_topic} only, to the ${local.function_name} function."
  stage       = "GA"
  permissions = [
    # lib/fanout.ts: publishFanout sends the triage-completed message to FANOUT_TOPIC
    "pubsub.topics.publish",
  ]

  depends_on = [google_project_service.required]
}

resource "google_pubsub_topic_iam_member" "function_publishes_fanout" {
  count   = var.fanout_topic == "" ? 0 : 1
  project = split("/", var.fanout_topic)[1]
  topic   = var.fanout_topic
  role    = google_organization_iam_custom_role.fanout_publisher[0].name
  member  = local.function_member
}

# ---------------------------------------------------------------------------
# The function's build identity
# ---------------------------------------------------------------------------

# Cloud Build runs the function's build as this account unless
# build_service_account_email names an existing one. Roles as Google documents
# them for a user-specified build service account of a function
# (https://cloud.google.com/run/docs/configuring/services/build-service-account:
# Logs Writer for build logs, Artifact Registry Writer for the image, Storage
# Object Admin to read the source from Cloud Storage and store build images).
resource "google_service_account" "build" {
  count        = var.build_service_account_email == null ? 1 : 0
  project      = var.project_id
  account_id   = "${var.name_prefix}-build"
  display_name = "scc-socat-triage build (${var.organization_id})"
  description  = "Cloud Build identity of the ${local.function_name} function's builds; holds only the build roles in iam.tf."

  depends_on = [google_project_service.required]
}

locals {
  build_service_account_email = var.build_service_account_email == null ? google_service_account.build[0].email : var.build_service_account_email
  build_roles                 = toset(["roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectAdmin"])
}

resource "google_project_iam_member" "build" {
  for_each = var.build_service_account_email == null ? local.build_roles : toset([])
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.build[0].email}"
}
