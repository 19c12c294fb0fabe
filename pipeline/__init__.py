"""dutylists: township duty lists (履行职责事项清单) into clean relational data.

Stages, each a module named for what it produces:
sources (bytes → text) → tables (sections of rows) → layout (list kind, place, fields)
→ steps → departments → documents (the normalized record) → db (load).
"""

__version__ = "0.1.0"
PARSER_VERSION = __version__
