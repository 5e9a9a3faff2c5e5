"""Change events: the envelope, publishing from the products stream, signatures, webhooks."""
