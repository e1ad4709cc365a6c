"""Environments: facts about the host (virtual packages), where prefixes live, and plans."""
