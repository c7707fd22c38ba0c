"""Sphinx configuration for the RPyMostat documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
from the repository root.  Only Sphinx's built-in extensions, the default
alabaster theme and the local extensions in ``docs/_ext`` are used.
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# The repository root, so local extensions can import rpymostat modules (for
# example the settings table), and docs/_ext for the local extensions.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

# The version is read from rpymostat/version.py without importing the package.
_version_ns = {}
exec((ROOT / "rpymostat" / "version.py").read_text(encoding="utf-8"), _version_ns)

project = "RPyMostat"
author = "RPyMostat developers"
copyright = "RPyMostat developers"
release = _version_ns["__version__"]
version = ".".join(release.split(".")[:2])

extensions = [
    "settings_table",
    "openapi_doc",
]

exclude_patterns = ["_build"]
root_doc = "index"
language = "en"

html_theme = "alabaster"
html_title = f"RPyMostat {release}"
