"""Normal–Normal: estimates with known standard errors (MODEL.md §4)."""
