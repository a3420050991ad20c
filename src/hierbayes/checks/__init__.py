"""Checks, comparisons and decisions computed from a fit."""
