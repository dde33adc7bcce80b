locals {
  create_vpc = var.create_vpc && var.putin_khuylo
  len_public = max(length(var.public_subnets), length(var.public_subnet_ipv6_prefixes))
  vpc_id     = try(aws_vpc_ipv4_cidr_block_association.this[0].vpc_id, aws_vpc.this[0].id, "")
  azs        = slice(data.aws_availability_zones.available.names, 0, 3)
  tags = merge(
    { "Name" = var.name }, # the name tag first
    var.tags,
    var.vpc_tags,
  )
  subnet_map = { for i, az in local.azs : az => cidrsubnet(var.cidr, 4, i) if i < 3 }
  nat_count  = var.single_nat_gateway ? 1 : var.one_nat_gateway_per_az ? length(local.azs) : local.len_public
}

resource "aws_vpc" "this" {
  count = local.create_vpc ? 1 : 0

  cidr_block          = var.use_ipam_pool ? null : var.cidr
  ipv4_ipam_pool_id   = var.ipv4_ipam_pool_id
  enable_dns_support  = var.enable_dns_support
  instance_tenancy    = var.instance_tenancy
  assign_generated_ipv6_cidr_block = var.enable_ipv6 && !var.use_ipam_pool ? true : null

  tags = merge(
    { "Name" = var.name },
    var.tags,
  )
}

resource "aws_subnet" "public" {
  count = local.create_vpc && local.len_public > 0 ? local.len_public : 0

  availability_zone    = length(regexall("^[a-z]{2}-", element(var.azs, count.index))) > 0 ? element(var.azs, count.index) : null
  cidr_block           = element(concat(var.public_subnets, [""]), count.index)
  map_public_ip_on_launch = var.map_public_ip_on_launch
  vpc_id               = local.vpc_id

  tags = merge(
    {
      Name = try(
        var.public_subnet_names[count.index],
        format("${var.name}-${var.public_subnet_suffix}-%s", element(var.azs, count.index))
      )
    },
    var.tags,
    lookup(var.public_subnet_tags_per_az, element(var.azs, count.index), {})
  )
}

resource "aws_route" "public_internet_gateway" {
  count = local.create_vpc && var.create_igw && local.len_public > 0 ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id

  timeouts {
    create = "5m"
  }
}

resource "aws_flow_log" "this" {
  count = var.enable_flow_log ? 1 : 0

  log_destination_type = var.flow_log_destination_type
  log_format           = var.flow_log_log_format
  iam_role_arn         = var.create_flow_log_cloudwatch_iam_role ? aws_iam_role.vpc_flow_log_cloudwatch[0].arn : var.flow_log_cloudwatch_iam_role_arn
  traffic_type         = var.flow_log_traffic_type
  vpc_id               = local.vpc_id

  dynamic "destination_options" {
    for_each = var.flow_log_destination_type == "s3" ? [true] : []

    content {
      file_format                = var.flow_log_file_format
      hive_compatible_partitions = var.flow_log_hive_compatible_partitions
    }
  }
}

data "aws_iam_policy_document" "flow_log_cloudwatch_assume_role" {
  count = var.create_flow_log_cloudwatch_iam_role ? 1 : 0

  statement {
    sid = "AWSVPCFlowLogsAssumeRole"

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    effect  = "Allow"
    actions = ["sts:AssumeRole"]
  }
}

resource "aws_iam_role" "vpc_flow_log_cloudwatch" {
  count = var.create_flow_log_cloudwatch_iam_role ? 1 : 0

  name_prefix        = "vpc-flow-log-role-"
  assume_role_policy = data.aws_iam_policy_document.flow_log_cloudwatch_assume_role[0].json
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "*"
      },
    ]
  })
  tags = { for k, v in merge(var.tags, var.vpc_flow_log_tags) : k => v if k != "Name" }
}

module "endpoints" {
  source = "./modules/vpc-endpoints"

  vpc_id    = local.vpc_id
  endpoints = { for k, v in var.endpoints : k => merge(v, { subnet_ids = try(v.subnet_ids, aws_subnet.private[*].id) }) }
  security_group_ids = compact([
    try(aws_security_group.this[0].id, null), # created here
    var.extra_security_group_id,
  ])
  user_data = <<-EOT
    #!/bin/bash
    echo "${var.name}" > /etc/hostname
  EOT
}
