# Cache for the web tier. Valkey encrypts at rest by default.
resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "web cache"
  engine               = "valkey"
  node_type            = "cache.t4g.small"
}

resource "aws_s3_bucket" "assets" {
  bucket = "${var.name}-assets"
}

variable "name" {
  type    = string
  default = "web"
}
