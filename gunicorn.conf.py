"""gunicorn settings for production (``make serve-prod``); each can be overridden by the
environment variables named here or by gunicorn's own command-line flags."""

import multiprocessing
import os

bind = os.environ.get("LMS_BIND", "127.0.0.1:8000")
# Sync workers, two per core plus one: requests are short and mostly wait on the database.
workers = int(os.environ.get("LMS_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("LMS_THREADS", 1))
timeout = int(os.environ.get("LMS_TIMEOUT", 60))  # large exports stream; raise for slow clients
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound; not so often that
# restarts cost much (a new worker imports the app: about a second of CPU). At 2,000 a busy
# school's workers restarted every minute or so under load.
max_requests = 20000
max_requests_jitter = 2000
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("LMS_FORWARDED_ALLOW_IPS", "127.0.0.1")
