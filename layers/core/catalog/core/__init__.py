"""Pieces every function shares: errors, settings, observability, AWS clients, DynamoDB
plumbing, cursors, and the JSON, text, money and time rules."""
