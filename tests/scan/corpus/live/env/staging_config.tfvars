environment   = "staging"
region        = "us-east-1"
redis_host    = "cache-01.prod.acme.internal"
enable_bucket = false
log_bucket    = "logs"
