"""Exports: the catalog (or a listing of it) written to a file in S3 by a background job."""
