"""Quantiles, CDFs and moments of finite mixtures; monotone root finding."""
