"""Gunicorn's settings for the web service (docker-compose.yml); the address is on its command
line. Access logs are off: core.logs writes one structured line per request; gunicorn's own
lines (workers booting, timing out) are JSON too unless LOG_FORMAT=text."""

import os
import socket

from prometheus_client import multiprocess

workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
accesslog = None
errorlog = "-"
# Heartbeat files in memory, not on the container's overlay disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
if os.environ.get("LOG_FORMAT", "json").lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False}
        },
        "root": {"handlers": [], "level": "WARNING"},
    }


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the metrics directory (prometheus-client)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(f"{socket.gethostname()}-{worker.pid}")
