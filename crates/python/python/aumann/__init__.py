"""aumann: which agents produced this emergent outcome, and how much.

Aumann–Shapley attribution of a macro indicator (polarization, the reach
of a cascade, attention, a market panic) to every agent of a population and
every step, from a notebook.

>>> import aumann
>>> pop = aumann.generate(agents=5000, days=7, seed=1)
>>> a = aumann.attribute(pop, "polarization")
>>> a.top(5)                                    # doctest: +SKIP

The engine also attributes any differentiable Python function
(:func:`path_attribution`) and computes Shapley values of coalition
functions (:func:`exact_shapley`, :func:`permutation_shapley`).
See docs/python.md for a walk through.
"""

from ._native import __version__
from ._errors import ConvergenceWarning, Error, InvalidInputError, InvalidTypeError, NotFoundError, OutputError
from ._population import (
    Population,
    generate,
    ingest_jetstream,
    ingest_oasis,
    ingest_twitter_trees,
    read_population,
)
from ._attribution import INDICATORS, PARAMETERS, Attribution, Cluster, attribute, sensitivity, study
from ._sensitivity import Sensitivity
from ._fit import Fit, fit
from ._engine import PathAttribution, ShapleyValues, exact_shapley, path_attribution, permutation_shapley
from . import plot

__all__ = [
    "INDICATORS",
    "PARAMETERS",
    "Attribution",
    "Cluster",
    "ConvergenceWarning",
    "Error",
    "Fit",
    "InvalidInputError",
    "InvalidTypeError",
    "NotFoundError",
    "OutputError",
    "PathAttribution",
    "Population",
    "Sensitivity",
    "ShapleyValues",
    "__version__",
    "attribute",
    "exact_shapley",
    "fit",
    "generate",
    "ingest_jetstream",
    "ingest_oasis",
    "ingest_twitter_trees",
    "path_attribution",
    "permutation_shapley",
    "plot",
    "read_population",
    "sensitivity",
    "study",
]
