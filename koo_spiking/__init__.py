"""koo_spiking: biologically detailed spiking building blocks and the Koo Encoder, on Brian2.

Modules, one per concept: ``neuron``, ``synapse``, ``population``, ``astrocyte``,
``neuromodulator``; ``backend`` picks the code-generation target.
"""
__version__ = "0.1.0"

from . import astrocyte, backend, neuromodulator, neuron, population, synapse  # noqa: F401
