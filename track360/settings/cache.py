"""Django's cache on the project's Redis, shared by every web and worker process."""

from track360.settings.env import env_str

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("REDIS_URL"),
        "KEY_PREFIX": "t360",
        "TIMEOUT": 300,
    }
}
