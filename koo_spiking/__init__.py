"""koo_spiking: biologically detailed spiking building blocks and the Koo Encoder, on Brian2.

Modules, one per concept: ``neuron``, ``synapse``, ``population``, ``astrocyte``,
``neuromodulator``; ``encoder`` (the Koo Encoder, a scikit-learn transformer) with its
``encoder_spec`` and ``encoder_network``; ``study`` (encoder against baselines); ``backend``
picks the code-generation target.
"""
__version__ = "0.2.0"

from . import astrocyte, backend, neuromodulator, neuron, population, synapse  # noqa: F401
from .encoder import KooEncoder  # noqa: F401
