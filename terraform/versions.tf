# Provider constraints. The lower bounds are the versions whose schemas are
# committed in schema/ and checked by test/terraform (no terraform binary can
# be installed on our machines): moving them means regenerating those files
# with scripts/generate-provider-schema.mjs. The google upper bound admits the
# 7.x line (issue 14); the schema check runs against the 6.50.0 lower bound,
# so every argument used here must exist in both lines.
terraform {
  # lifecycle preconditions need >= 1.2; optional() object attributes >= 1.3.
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.50.0, < 8.0.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.7.1, < 3.0.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.13.1, < 1.0.0"
    }
  }
}
