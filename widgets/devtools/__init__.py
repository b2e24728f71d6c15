"""Tools for developing the course, not part of any lesson: serving it locally and driving it in a
browser (tests, benchmarks, tools/). A subpackage, so the maths-layering test leaves it alone."""
