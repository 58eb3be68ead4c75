"""The render wing: the report's sections, charts, maps and pages, HTML and PDF."""
