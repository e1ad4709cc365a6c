"""OCI registries as channels: layout, token flow, push, promote, install."""
