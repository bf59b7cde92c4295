"""idem-fix rules: one module per rule, registered on import."""
