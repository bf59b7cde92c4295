SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]
