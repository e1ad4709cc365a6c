"""Credential stores: the OS keyring, an encrypted file, and an explicit plain JSON file."""
