"""idem-fix command line."""

__version__ = "0.1.0"  # the one place it is written: pyproject.toml reads it (importlib.metadata costs a warm run 50 ms)
