"""The name of this process's files in prometheus-client's multiprocess directory, read by the
settings before Django (or any metric) is loaded; so this module imports nothing of Django."""

import os
import socket


def process_identifier() -> str:
    """Host and pid: containers sharing the directory each count pids from 1."""
    return f"{socket.gethostname()}-{os.getpid()}"
