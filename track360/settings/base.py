"""Core Django settings, read from the environment."""

from pathlib import Path

import dj_database_url

from track360.settings.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
# NOTE: the fallback key only suits local runs; production sets DJANGO_SECRET_KEY.
# Reverse proxies in front of the web server that append to X-Forwarded-For; 0
# when clients connect directly. Click and application limits key on the client
# address this finds (tenancy.http.client_address).
TRACK360_TRUSTED_PROXIES = env_int("TRACK360_TRUSTED_PROXIES", 0)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "track360-local-development-key-not-for-production")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "tenancy",
    "crm",
    "icp",
    "partners",
    "attribution",
    "commissions",
    "reporting",
    "jobs",
    "webhooks",
    "demo",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenancy.middleware.TenantMiddleware",
]

ROOT_URLCONF = "track360.urls"
WSGI_APPLICATION = "track360.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancy.context_processors.tenant",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reporting:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploaded files, such as MDF claim proof. Nothing under MEDIA_URL is served
# publicly: views check the tenant and partner before they send a file.
MEDIA_ROOT = env_str("TRACK360_MEDIA_ROOT", str(BASE_DIR / "media"))
MEDIA_URL = "media/"
# Largest proof file an MDF claim accepts, in bytes.
TRACK360_MDF_MAX_PROOF_BYTES = env_int("TRACK360_MDF_MAX_PROOF_BYTES", 5 * 1024 * 1024)

# Largest CSV file the import page and API accept, in bytes. Imports stream the
# stored file in chunks, so memory does not grow with the file (see docs/csv-import.md).
TRACK360_MAX_IMPORT_BYTES = env_int("TRACK360_MAX_IMPORT_BYTES", 512 * 1024 * 1024)
# Uploaded CSV files wait here for the worker; each is removed when its import ends.
TRACK360_IMPORT_DIR = env_str("TRACK360_IMPORT_DIR", str(BASE_DIR / "var" / "imports"))
# Files up to this size import during the request; larger ones go to the worker.
TRACK360_IMPORT_INLINE_MAX_BYTES = env_int("TRACK360_IMPORT_INLINE_MAX_BYTES", 1024 * 1024)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
