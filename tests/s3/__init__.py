"""S3 buckets as channels: SigV4, settings, upload and install."""
