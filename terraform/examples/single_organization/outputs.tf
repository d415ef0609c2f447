output "function_uri" {
  description = "run.app URI of the triage function."
  value       = module.socat_triage.function_uri
}

output "scc_source_name" {
  description = "The project's own SCC source (organizations/ORG/sources/ID)."
  value       = module.socat_triage.scc_source_name
}

output "dead_letter_subscription" {
  description = "Subscription holding dead letters (see the module README to inspect and replay)."
  value       = module.socat_triage.dead_letter_subscription
}

output "function_service_account_email" {
  description = "The function's runtime identity."
  value       = module.socat_triage.function_service_account_email
}
