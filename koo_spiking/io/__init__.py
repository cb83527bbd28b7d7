"""Input and output: data sets."""
