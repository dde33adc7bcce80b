# The OAuth client secret lives in Secret Manager; this is its name.
resource "google_secret_manager_secret" "oauth" {
  secret_id = "iap-oauth-client-id"
  replication {
    auto {}
  }
}

locals {
  secret = "iap-oauth-client-id"
  # private_key = "privatekeyprivatekeyprivatekeyprivatekey"
  api_key = var.notify_api_key
}

variable "notify_api_key" {
  type      = string
  sensitive = true
}
