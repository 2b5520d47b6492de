"""cropmap.infer."""
