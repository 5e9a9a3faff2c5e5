"""Notification emails: templates in the repository, sent through SES."""
