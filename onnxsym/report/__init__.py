"""Reports: result dataclasses to dicts/JSON (versioned schemas), text tables and HTML."""
