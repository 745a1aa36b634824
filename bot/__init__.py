"""Docket's Discord adapter: slash commands, chat questions, rendering, maintenance.

Everything is built in `bot.__main__` and passed down; nothing here runs at import.
The index (`index/`) knows nothing of Discord; this package imports it, never the reverse.
"""

__version__ = "0.1.0"
