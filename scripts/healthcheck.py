"""A container's health check, with the standard library only (fast, no Django):

    healthcheck.py URL                       GET URL, healthy on 200
    healthcheck.py --file PATH --max-age S   healthy when PATH was touched in the last S seconds

The request names the first of ALLOWED_HOSTS as its Host (Django refuses other hosts) and says
it came over HTTPS, as the proxy would.
"""

import argparse
import os
import sys
import time
import urllib.request


def url_healthy(url: str) -> bool:
    hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",")]
    headers = {"X-Forwarded-Proto": "https"}
    if hosts and hosts[0] and hosts[0] != "*":
        headers["Host"] = hosts[0]
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own URL
            return response.status == 200
    except OSError:
        return False


def file_fresh(path: str, max_age: float) -> bool:
    try:
        return time.time() - os.stat(path).st_mtime <= max_age
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?")
    parser.add_argument("--file")
    parser.add_argument("--max-age", type=float, default=60)
    args = parser.parse_args()
    healthy = file_fresh(args.file, args.max_age) if args.file else url_healthy(args.url)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
