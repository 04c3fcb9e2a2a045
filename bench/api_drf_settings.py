"""bench/api.py's server: the product's settings, with the DRF comparison's URLs in front."""

from config.settings import *  # noqa: F403 - the product's settings, one change

ROOT_URLCONF = "api_drf"
