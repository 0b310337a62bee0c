"""Sphinx configuration of the graphrec documentation.

Build it with ``bash scripts/docs.sh`` (= ``sphinx-build -W -b html docs docs/_build/html``:
warnings are errors).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the graphrec of this tree, installed or not
sys.path.insert(0, str(DOCS / "_ext"))

import graphrec

project = "graphrec"
author = "the graphrec authors"
copyright = "2026, the graphrec authors"
release = graphrec.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinxarg.ext",
    "myst_nb",
    "graphrec_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
root_doc = "index"

# numpy-style docstrings (the house style) through napoleon
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_class_signature = "separated"
autodoc_default_options = {"exclude-members": "__init__, __new__"}
autodoc_preserve_defaults = True

# notebooks are stored with their outputs (the tests keep them true): never executed here
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"graphrec {release}"
html_static_path: list[str] = []
suppress_warnings = ["myst.header"]

# a reference to a graphrec object that the site does not document is an error (as every warning);
# references to other libraries' objects (torch, numpy, ...) are not checked
nitpicky = True
# private names (a base class shown by show-inheritance) are not documented either
# nor are type variables (``T``) of signatures
nitpick_ignore_regex = [(r"py:.*", r"^(?!(~?graphrec\.)).*"), (r"py:.*", r".*\._\w+$"), (r"py:class", r".*\.[A-Z]$")]
