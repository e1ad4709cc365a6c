"""S3 buckets as conda channels (`s3://bucket/path`), for AWS and S3-compatible stores.

`sigv4` signs requests (own implementation: presigned GETs for the download engine, signed
headers for uploads), `settings` finds region, endpoint, addressing style and credentials
(naja.auth `s3://bucket` entries, or else the AWS chain — never a mix), `client` does the few
object operations uploads need, and `resolve` is the download engine's hook for `s3://` URLs.
"""
