"""Adaptive quadrature over hyperparameters: 1-D and 2-D grids, row maps."""
