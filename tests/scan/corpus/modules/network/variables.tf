variable "create_vpc" {
  description = "Controls if VPC should be created (it affects almost all resources)"
  type        = bool
  default     = true
}

variable "public_subnets" {
  description = "A list of public subnets inside the VPC"
  type        = list(string)
  default     = []
}

variable "endpoints" {
  description = "A map of interface and/or gateway endpoints"
  type = map(object({
    service         = string
    service_type    = optional(string, "Interface")
    private_dns     = optional(bool)
    subnet_ids      = optional(list(string), [])
    policy          = optional(string)
    tags            = optional(map(string), {})
  }))
  default = {}
}

variable "instance_tenancy" {
  description = "A tenancy option for instances launched into the VPC"
  type        = string
  default     = "default"

  validation {
    condition     = contains(["default", "dedicated"], var.instance_tenancy)
    error_message = "Must be default or dedicated."
  }
}

variable "flow_log_traffic_type" {
  type    = string
  default = "ALL"
}

variable "single_nat_gateway" {
  type    = bool
  default = false
}

variable "tags" {
  type    = map(string)
  default = {
    Terraform   = "true"
    Environment = "dev"
  }
}
