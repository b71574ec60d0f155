"""Reports: the office's statistics, the yearly work report that fills itself in, charts.

Each figure of the report is one small function registered in ``figures.py``; the page,
the exports (.xlsx, PDF, .docx, text) and the CLI read the same registry.
"""
