"""Input: column roles, validation and reduction of rows to per-group data."""
