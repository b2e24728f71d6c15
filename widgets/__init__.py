"""Interactive lessons on feature scaling, Batch Normalization, 1×1 bottlenecks,
the Inception module / GoogLeNet, and live training.

Pure maths and models live in the top-level modules (no ipywidgets or plotly imports);
the builders that return widgets live in `widgets.views`.
"""
__version__ = "0.1.0"
