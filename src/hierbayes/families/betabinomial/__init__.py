"""Beta–Binomial: rates with trials (MODEL.md §3)."""
