# The function's identity and least privilege.
#
# The function's service account holds two custom organization roles and
# nothing else. Together they list exactly lib/permissions.ts
# REQUIRED_PERMISSIONS (test/terraform/permissions.test.ts fails otherwise);
# each permission is granted at the narrowest scope the provider allows:
#
# - securitycenter.findings.update → only on our own SCC source, through
#   google_scc_v2_organization_source_iam_member: the function cannot create
#   or change findings in any other source (CTD's included).
# - securitycenter.findingsecuritymarks.update → organization-wide. The marks
#   go on the original finding, which lives in Container Threat Detection's
#   Google-managed source: its id is not known to Terraform (the provider has
#   no data source for SCC sources) and it is not ours to change the IAM of.
#   Findings of that source can belong to any project of the organization.
#
# The gatherers' read permissions (SCC findings list, GKE, Kubernetes, Logging)
# are organization-wide too: a socat finding can come from any project's
# cluster, and none of them is narrower in the provider.

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
  title       = "scc-socat-triage: organization-wide triage"
  description = "What the ${local.function_name} function needs across the organization: reads for triage context, marks on the original findings."
  stage       = "GA"
  permissions = [
    # lib/scc/writeback.ts: updateSecurityMarks writes socat_triage_* marks on the original finding
    "securitycenter.findingsecuritymarks.update",
    # lib/gather/registry.ts: gatherer relatedFindings (SCC v2 ListFindings across the organization)
    "securitycenter.findings.list",
    # lib/gather/registry.ts: gatherer cluster (GKE ClusterManager.GetCluster)
    "container.clusters.get",
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
    # lib/gather/registry.ts: gatherers podLogs, auditLogs, nodeLogs (Cloud Logging entries.list, admin activity audit logs included)
    "logging.logEntries.list",
    # lib/gather/registry.ts: gatherer namespace (Kubernetes core/v1 namespaces get: owner labels)
    "container.namespaces.get",
    # lib/gather/registry.ts: gatherer contacts (Essential Contacts computeContacts; inherited contacts need it on folders and the organization too)
    "essentialcontacts.contacts.list",
  ]
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
}

resource "google_pubsub_topic_iam_member" "function_publishes_fanout" {
  count   = var.fanout_topic == "" ? 0 : 1
  project = split("/", var.fanout_topic)[1]
  topic   = var.fanout_topic
  role    = google_organization_iam_custom_role.fanout_publisher[0].name
  member  = local.function_member
}
