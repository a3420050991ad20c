"""What a person sees: command line, report, plots and the ArviZ export."""
