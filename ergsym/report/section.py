"""The unit the report is assembled from."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Section"]


@dataclass
class Section:
    """One section of the report.

    Attributes
    ----------
    key : str
        Short identifier (``"derivation"``, ``"numeric"``, ...), also the key in ``report.json``.
    title : str
        LaTeX title.
    body : str
        LaTeX body.
    data : dict
        JSON-ready numbers behind the section (written to ``report.json``).
    figures : list of str
        Figure file names (relative to the output directory).
    seconds : float
        Wall time spent building it.
    available : bool
        False if the section could not be built (e.g. a layer is not installed); the body
        then says why.
    """

    key: str
    title: str
    body: str
    data: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    seconds: float = 0.0
    available: bool = True
