"""Cross-cutting pieces every function shares: errors, HTTP plumbing, settings, observability."""
