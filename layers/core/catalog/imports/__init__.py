"""Bulk imports of products from CSV and JSON Lines files (README, Imports)."""
