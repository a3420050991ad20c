"""Sphinx configuration: the user guide (guide/), the API reference from the numpydoc
docstrings (api.rst) and a gallery of the plots run from examples/ (sphinx-gallery).

Build (what CI runs; warnings are errors, every example is executed)::

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

project = "hierbayes"
author = "hierbayes developers"
copyright = "hierbayes developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "examples", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5"]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()
# numpydoc renders See Also and cross-references; names it cannot resolve are not errors
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "image_scrapers": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "alabaster"
html_title = "hierbayes"
html_static_path: list[str] = []
