"""Webhooks: registration (admins), dispatch of change events, signed delivery with retries."""
