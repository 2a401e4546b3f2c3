# Type stubs of the compiled module. The public API is in the package's
# Python modules, which are typed themselves; these stubs cover what they
# call.
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
DEFAULTS: Dict[str, Any]
PARAMETERS: List[Dict[str, Any]]
INDICATORS: Tuple[str, ...]
SUMMARY_SCHEMA: int
SENSITIVITY_SHOWN: Tuple[Tuple[str, str], ...]

class ArrowBatch:
    """A table exporting the Arrow PyCapsule interface (pyarrow.record_batch(t))."""

    def __arrow_c_array__(self, requested_schema: Optional[object] = None) -> Tuple[object, object]: ...
    def __len__(self) -> int: ...
    @property
    def columns(self) -> List[str]: ...

class Population:
    @staticmethod
    def read(path: str, progress: Any) -> "Population": ...
    def write(self, path: str) -> None: ...
    @staticmethod
    def generate(agents: int, days: int, seed: int, feed: int, progress: Any) -> "Population": ...
    @staticmethod
    def from_tables(
        agents: int, steps: int, step_seconds: int, source: str, tables: Sequence[Tuple[str, object]]
    ) -> "Population": ...
    def tables(self) -> List[Tuple[str, ArrowBatch]]: ...
    def table(self, name: str) -> Optional[ArrowBatch]: ...
    @property
    def agents(self) -> int: ...
    @property
    def steps(self) -> int: ...
    def metadata_json(self) -> str: ...
    def content_id(self) -> str: ...
    @staticmethod
    def ingest_jetstream(
        files: Sequence[str],
        steps: int,
        start_us: Optional[int],
        step_seconds: int,
        follows: Optional[str],
        stances: Optional[str],
        strict: bool,
        implied_exposures: bool,
        lexicon_file: Optional[str],
    ) -> Tuple["Population", str]: ...
    @staticmethod
    def ingest_oasis(db: str, step_seconds: int, lexicon_file: Optional[str]) -> Tuple["Population", str]: ...
    @staticmethod
    def ingest_twitter_trees(dirs: List[str], step_minutes: float, window_minutes: float) -> Tuple["Population", str]: ...
    def estimate_stance(
        self, method: str, file: Optional[str], elites: int, min_elites: int, slope: float
    ) -> Tuple["Population", str]: ...

def run(
    population: Population, settings: Dict[str, Any]
) -> Optional[
    Tuple[str, List[Tuple[str, ArrowBatch, ArrowBatch, Optional[ArrowBatch], Optional[ArrowBatch]]], List[str]]
]: ...
def fit(
    population: Population,
    indicator: str,
    network: str,
    held_out: float,
    progress: Any,
    stances: Union[None, str, Tuple[List[str], List[int], List[float]]] = None,
) -> Tuple[str, int]: ...
def path_attribution(
    function: Callable[[npt.NDArray[np.float64]], Tuple[Any, Any]],
    x: npt.NDArray[np.float64],
    baseline: npt.NDArray[np.float64],
    rule: str,
    nodes: Optional[int],
    tolerance: float,
    max_nodes: int,
    batch: int,
) -> Dict[str, Any]: ...
def exact_shapley(function: Callable[[npt.NDArray[np.bool_]], Any], players: int) -> Dict[str, Any]: ...
def permutation_shapley(
    function: Callable[[npt.NDArray[np.bool_]], Any],
    players: int,
    permutations: Optional[int],
    max_evaluations: Optional[int],
    target_std_error: Optional[float],
    seed: int,
) -> Dict[str, Any]: ...
