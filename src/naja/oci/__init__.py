"""OCI registries as conda channels (`oci://registry/namespace/channel`).

The layout is conda-forge's ghcr.io mirror (CEP "OCI registries as conda channels"): see
`reference` (repository names and tags), `layout` (media types, the repodata artifact),
`token` (the registry token flow), `client` (manifests and blobs over HTTP), `push`
(one package as an artifact) and `resolve` (the download engine's hook for `oci://` URLs).
"""
