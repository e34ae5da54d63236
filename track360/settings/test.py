"""Settings for the test suite: real PostgreSQL and Redis, eager Celery by default."""

import atexit
import shutil
import tempfile

from track360.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Sent messages collect in django.core.mail.outbox instead of leaving the machine.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TRACK360_BASE_URL = "http://testserver"
LOG_LEVEL = "WARNING"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Serve static files from the app folders, so tests need no collectstatic run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Uploads of a test run go to a fresh folder, never to the project tree.
MEDIA_ROOT = tempfile.mkdtemp(prefix="track360-test-media-")
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
# High enough that no test is throttled by accident; throttle tests override them.
TRACK360_API_RATE = "100000/min"
TRACK360_SESSION_API_RATE = "100000/min"
TRACK360_IMPORT_DIR = tempfile.mkdtemp(prefix="track360-test-imports-")
atexit.register(shutil.rmtree, TRACK360_IMPORT_DIR, ignore_errors=True)
