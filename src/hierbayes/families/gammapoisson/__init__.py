"""Gamma–Poisson: counts with exposures (MODEL.md §5)."""
