"""cropmap.models."""
