"""Source of notebooks/00_index.ipynb (run: python tools/lesson00.py)."""
from nbwrite import call, md, write

cells = [
    md("""
# Going deeper, interactively

Five lessons on one chapter of deep learning: why inputs must be scaled, how Batch Normalization keeps every
layer's inputs in a useful range, how 1×1 convolutions make wide networks affordable, how the Inception module and
GoogLeNet (Szegedy et al., *Going Deeper with Convolutions*, 2014) are built, and finally training an Inception
network live. Take them in order; each one builds on the last.
"""),
    call("widgets.views.index", "course_index"),
]
write("notebooks/00_index.ipynb", cells, title="Going deeper, interactively")
