"""Tracking links and the click queue."""

from track360.settings.env import env_int, env_str

# Scheme and host that partners' tracking links start with, such as
# "https://go.example.com", without a trailing slash. Empty means TRACK360_BASE_URL.
TRACK360_LINK_BASE_URL = env_str("TRACK360_LINK_BASE_URL", "").rstrip("/")
# Clicks that may wait in Redis for the worker. When the queue is this long, for
# example because the worker is stopped, further clicks still redirect but are not
# recorded, and each is logged.
TRACK360_CLICK_QUEUE_MAX = env_int("TRACK360_CLICK_QUEUE_MAX", 500_000)
# Clicks the worker writes per transaction.
TRACK360_CLICK_DRAIN_BATCH = env_int("TRACK360_CLICK_DRAIN_BATCH", 1000)
