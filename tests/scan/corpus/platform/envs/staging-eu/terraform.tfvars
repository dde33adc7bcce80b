db_host = "orders-db.acme-prod.internal"
