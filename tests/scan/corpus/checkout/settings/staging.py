from .base import *  # noqa: F403

DEBUG = False
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "shop-db.prod.acme.internal",
        "NAME": "checkout",
        "OPTIONS": {"sslmode": "verify-full"},
    }
}
