"""Input and output: data sets, recorded spikes."""
