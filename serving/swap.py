"""One served component that follows a pointer (a registry alias, an index's ``CURRENT``):
loaded at start-up, swapped for the version the pointer names when it moves.

The new version is loaded beside the old one and swapped in by one assignment, so a request
holds the version it started with. A version that cannot load leaves the old one serving;
a component that cannot load at all is kept as an error message (served as 503 with what to
do), so the server always starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from casecast.serving.schemas import ComponentChange

T = TypeVar("T")
log = logging.getLogger("casecast.serving")


@dataclass
class Swappable(Generic[T]):
    """The served version of one component of one data set.

    ``load_current`` loads what the pointer names now; ``pointed_version`` reads the pointer
    (None: nothing to serve yet); ``version_of`` names a loaded one; ``unavailable`` is the
    error both raise when there is nothing usable, and ``require`` raises with the reason.
    """

    dataset: str
    component: Literal["model", "index"]
    load_current: Callable[[], T]
    pointed_version: Callable[[], str | None]
    version_of: Callable[[T], str]
    unavailable: type[Exception]
    served: T | None = None
    error: str | None = None

    def load(self) -> None:
        try:
            self.served, self.error = self.load_current(), None
        except self.unavailable as error:
            self.served, self.error = None, str(error)
            log.warning("%s", error)

    @property
    def version(self) -> str | None:
        return self.version_of(self.served) if self.served is not None else None

    def refresh(self) -> ComponentChange | None:
        """Load the version the pointer names if it is not the one served, and swap it in.
        None when nothing moved; on failure the old version keeps serving and the change
        carries the error."""
        served = self.version
        try:
            pointed = self.pointed_version()
            if pointed is None or pointed == served:
                return None
            fresh = self.load_current()
        except self.unavailable as error:
            if served is None:
                self.error = str(error)
                return None
            log.error("%s %s did not load; still serving %s: %s",
                      self.dataset, self.component, served, error)  # fmt: skip
            return self._change(served, served, str(error))
        self.served, self.error = fresh, None  # one assignment: requests see old or new
        log.info("%s %s: %s -> %s", self.dataset, self.component, served, self.version)
        return self._change(served, self.version)

    def require(self) -> T:
        """The version served now (hold it for a whole request: a swap may follow)."""
        served = self.served
        if served is None:
            raise self.unavailable(self.error or f"no {self.component} loaded for {self.dataset}")
        return served

    def _change(
        self, old: str | None, new: str | None, error: str | None = None
    ) -> ComponentChange:
        return ComponentChange(
            dataset=self.dataset,
            component=self.component,
            old_version=old,
            new_version=new,
            error=error,
        )
