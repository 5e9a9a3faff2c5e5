"""The numbered migrations, `NNNN_snake_name.py`, loaded by catalog.migrations.registry."""
