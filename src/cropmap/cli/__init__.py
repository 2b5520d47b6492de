"""Command-line interface: thin wiring over the public Python API."""
