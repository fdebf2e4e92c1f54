"""The migration report of ``python -m pipeline migrate --json`` (and the app): one object, built once."""

from __future__ import annotations

import dataclasses
from typing import Any

from pipeline.timeline.drift import Drift, drift
from pipeline.timeline.migration import Migration, migrate
from pipeline.timeline.snapshot import Snapshot


@dataclasses.dataclass(frozen=True, eq=False)
class ChangeReport:
    """Migration and drift between two snapshots."""

    migration: Migration
    drift: Drift

    def to_json(self) -> dict[str, Any]:
        """``{"from", "to", "flows", "drift"}`` exactly as the CLI contract says."""
        return {
            "from": self.migration.before.summary(),
            "to": self.migration.after.summary(),
            "flows": self.migration.json_flows(),
            "drift": self.drift.to_json(),
        }


def compare_snapshots(before: Snapshot, after: Snapshot) -> ChangeReport:
    """Migration (refusals: see :func:`pipeline.timeline.migration.check_pair`) and drift."""
    return ChangeReport(migrate(before, after), drift(before, after))
