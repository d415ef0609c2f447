output "function_uris" {
  description = "run.app URI of each organization's triage function, by organization key."
  value       = { for key, instance in module.socat_triage : key => instance.function_uri }
}

output "scc_source_names" {
  description = "Each organization's own SCC source, by organization key."
  value       = { for key, instance in module.socat_triage : key => instance.scc_source_name }
}

output "dead_letter_subscriptions" {
  description = "Each organization's dead-letter subscription, by organization key."
  value       = { for key, instance in module.socat_triage : key => instance.dead_letter_subscription }
}
