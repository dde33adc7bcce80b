# Module-style constructs the fast HCL reader once left to python-hcl2: heredocs
# inside lists, calls and objects, computed object keys, ':' between an object's key
# and value (JSON written as HCL), and '!' right after a for expression's `if`.

locals {
  create       = var.create && !var.create_only_roles
  service_name = "${var.name}-svc"

  # heredoc as a list item and as a call argument
  helm_values = [
    <<-EOT
    controller:
      clusterName: ${var.name}
      replicas: 2
    EOT
  ]
  bootstrap = trimspace(<<-EOT
    #!/bin/bash
    echo "joining ${var.name}" # not an HCL comment
    EOT
  )

  # computed keys: the name comes from an expression
  containers = {
    (local.service_name) = {
      cpu    = 256
      memory = 512
    }
    "${var.name}-sidecar" = { cpu = 64 }
  }

  enabled_rules = { for k, v in var.rules : k => v if !v.disabled }
  names         = [for k, v in var.rules : k if !contains(["default"], k)]
}

resource "aws_ecr_lifecycle_policy" "this" {
  count      = local.create ? 1 : 0
  repository = var.repository

  policy = jsonencode({
    "rules" : [
      {
        "rulePriority" : 1,
        "selection" : {
          "tagStatus" : "any",
          "countType" : "imageCountMoreThan",
          "countNumber" : 5
        },
        "action" : { "type" : "expire" }
      }
    ]
  })
}

resource "aws_cloudwatch_event_rule" "this" {
  count = local.create ? 1 : 0
  name  = "${var.name}-events"

  event_pattern = jsonencode({
    source : ["aws.ec2"]
    detail : {
      state : ["terminated"]
    }
  })

  tags = merge(var.tags, { (var.owner_tag) = var.owner })
}

resource "aws_launch_template" "this" {
  count     = local.create ? 1 : 0
  name      = local.service_name
  user_data = base64encode(join("\n", [
    local.bootstrap,
    <<EOT
echo done
EOT
  ]))
}
