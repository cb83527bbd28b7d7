"""The Koo Encoder: spec (model description), network (Brian2 build), estimator, figures."""

from .estimator import KooEncoder  # noqa: F401
