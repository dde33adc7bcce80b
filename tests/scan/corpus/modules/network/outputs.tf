output "vpc_id" {
  description = "The ID of the VPC"
  value       = try(aws_vpc.this[0].id, null)
}

output "public_subnets" {
  description = "List of IDs of public subnets"
  value       = aws_subnet.public[*].id
}

output "azs" {
  value = local.azs
}

output "nat_public_ips" {
  value = var.reuse_nat_ips ? var.external_nat_ips : try(aws_eip.nat[*].public_ip, [])
}

output "subnet_cidrs" {
  value = [for s in aws_subnet.public : s.cidr_block]
}

output "flow_log_destination_arn" {
  value = try(aws_flow_log.this[0].log_destination, "")
  sensitive = false
}
