"""View builders: each function returns an ipywidgets widget for one section of a lesson."""
