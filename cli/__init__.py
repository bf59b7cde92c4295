"""idem-fix command line."""
