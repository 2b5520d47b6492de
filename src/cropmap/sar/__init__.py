"""cropmap.sar."""
