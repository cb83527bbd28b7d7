"""koo_spiking: biologically detailed spiking building blocks and the Koo Encoder, on Brian2.

The model library, one module per concept: ``neuron``, ``synapse``, ``population``,
``astrocyte``, ``neuromodulator``. ``encoder/`` (the Koo Encoder: ``spec``, ``network``,
``estimator`` (a scikit-learn transformer), ``figures``); ``studies/`` (``train``: the encoder
against baselines, ``diagnostics``); ``io/`` (``datasets``); ``backend`` picks the
code-generation target.
"""

__version__ = "0.4.0"

from . import astrocyte, backend, neuromodulator, neuron, population, synapse  # noqa: F401
from .encoder import KooEncoder  # noqa: F401
