"""Product images: presigned uploads, verification and renditions."""
