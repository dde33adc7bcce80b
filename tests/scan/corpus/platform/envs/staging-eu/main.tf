# the EU staging stack is production's, with smaller instances
module "stack" {
  source         = "../prod"
  instance_class = "db.t4g.small"
}

module "dns" {
  source = "../../modules/dns"
}
