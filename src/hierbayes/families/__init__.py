"""The conjugate families: each one's model, mathematics and fit hooks."""
