"""Helpers of `bench/run_all.py`: parse the areas' Markdown, extract headline ratios, gate, chart."""
