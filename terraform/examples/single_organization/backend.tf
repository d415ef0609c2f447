# State in a GCS bucket, one prefix per organization. Partial configuration:
# give bucket and prefix at init, as cloudbuild.yaml does:
#   terraform init -backend-config="bucket=STATE_BUCKET" -backend-config="prefix=scc-socat-triage/ORG_ID"
# To try the example without remote state: terraform init -backend=false.
terraform {
  backend "gcs" {}
}
