"""Test configuration: no validation cache, so every test validates for real."""

import os

os.environ["OBSERVABILITY_FN_CACHE"] = "off"
