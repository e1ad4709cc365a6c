"""Uploading packages to channels that are storage, not servers: OCI registries and S3.

`naja upload --to oci://…` / `--to s3://…` land here (`oci.upload_oci`, `s3.upload_s3`);
both push the package files and then rewrite the channel's index themselves.
"""
