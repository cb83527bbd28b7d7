"""Studies built on the Koo Encoder: training against baselines."""
