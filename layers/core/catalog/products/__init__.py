"""Products: the catalog's core resource."""
