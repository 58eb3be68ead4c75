"""The report's sections as displayable objects; the notebook only calls these, in order.

``Report`` (the yearly report, yearly.py) is made of one part per topic: front matter,
rankings and groups, regions, SIPAS, trends (timeline), references, appendix; ``Review``
(methodology.py) and ``Brief`` (province.py) build on it. Every name the single module had is
importable from here.
"""

from .appendix import Appendix
from .common import INDEX_NAMES, L_idx, _bounds_cell, _cached_analyse, _fig, _svg, _table, md_text, range_text
from .front import FrontMatter
from .methodology import Review
from .province import Brief
from .rankings import Rankings
from .references import References
from .regions import Regions
from .sipas import Sipas
from .timeline import Timeline
from .yearly import Report

__all__ = ["Report", "Review", "Brief", "INDEX_NAMES", "L_idx", "md_text", "range_text"]
