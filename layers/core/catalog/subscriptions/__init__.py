"""Email subscriptions: which categories a user wants to hear about."""
