terraform {
  required_version = ">= 1.6"
  backend "s3" {
    bucket         = "acme-tfstate"
    key            = "staging/platform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "tfstate-lock"
  }
}

data "terraform_remote_state" "network" {
  backend = "s3"
  config = {
    bucket = "acme-tfstate"
    key    = "prod/network.tfstate"
    region = "eu-west-1"
  }
}

module "platform" {
  source     = "../../modules/platform"
  subnet_ids = data.terraform_remote_state.network.outputs.private_subnet_ids
}
