"""Migration between two snapshots: who moved from which segment to which, and how much value.

Customers are matched by id.  A customer only in the later snapshot comes
from ``"new"``; one only in the earlier snapshot goes to ``"gone"``.  So for
every pair of snapshots::

    customers in `from` + new == customers in `to` + gone

**Value** of a flow: the customers' value (``Customer_Value``, net spend up to
the as-of date) in the *earlier* snapshot, i.e. the value that moved; for new
customers, their value in the later snapshot.  A customer whose value is
unknown (a table without a spend column) adds 0 to the value of its flow.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from pipeline.errors import DataError
from pipeline.features.definitions import ID_COLUMN
from pipeline.timeline.snapshot import SEGMENT, VALUE, Snapshot

NEW = "new"
GONE = "gone"


@dataclasses.dataclass(frozen=True, eq=False)
class Migration:
    """Flows between two snapshots.

    Attributes
    ----------
    before, after : Snapshot
        The earlier and the later snapshot.
    flows : DataFrame
        ``from``, ``to``, ``customers``, ``value``: one row per non-empty
        pair, ``from`` a key or ``"new"``, ``to`` a key or ``"gone"``.
    moves : DataFrame
        One row per customer: ``ID``, ``from``, ``to``, ``value_before``,
        ``value_after`` (NaN where absent).
    """

    before: Snapshot
    after: Snapshot
    flows: pd.DataFrame
    moves: pd.DataFrame

    def matrix(self, what: str = "customers") -> pd.DataFrame:
        """Rows: earlier segments then ``new``; columns: later segments then ``gone``; cells: customers or value."""
        rows = [s.key for s in self.before.segments] + [NEW]
        cols = [s.key for s in self.after.segments] + [GONE]
        table = self.flows.pivot_table(index="from", columns="to", values=what, aggfunc="sum", observed=True)
        return table.reindex(index=rows, columns=cols).fillna(0)

    def inflow_outflow(self) -> pd.DataFrame:
        """Per segment: customers before, stayed, in (from other segments), new, out (to other segments), gone, after."""
        keys = list(dict.fromkeys([s.key for s in self.before.segments] + [s.key for s in self.after.segments]))
        f = self.flows
        rows = []
        for k in keys:
            stay = int(f.loc[(f["from"] == k) & (f["to"] == k), "customers"].sum())
            rows.append(
                {
                    "segment": k,
                    "before": int(f.loc[f["from"] == k, "customers"].sum()),
                    "stayed": stay,
                    "inflow": int(f.loc[(f["to"] == k) & (f["from"] != k) & (f["from"] != NEW), "customers"].sum()),
                    "new": int(f.loc[(f["to"] == k) & (f["from"] == NEW), "customers"].sum()),
                    "outflow": int(f.loc[(f["from"] == k) & (f["to"] != k) & (f["to"] != GONE), "customers"].sum()),
                    "gone": int(f.loc[(f["from"] == k) & (f["to"] == GONE), "customers"].sum()),
                    "after": int(f.loc[f["to"] == k, "customers"].sum()),
                }
            )
        return pd.DataFrame(rows)

    def movers(self, from_key: str, to_key: str) -> pd.DataFrame:
        """The customers who moved from ``from_key`` (or ``"new"``) to ``to_key`` (or ``"gone"``)."""
        keys_from = [s.key for s in self.before.segments] + [NEW]
        keys_to = [s.key for s in self.after.segments] + [GONE]
        if from_key not in keys_from or to_key not in keys_to:
            raise DataError(
                f"Unknown segment pair {from_key} -> {to_key}; from one of {', '.join(keys_from)} "
                f"to one of {', '.join(keys_to)}."
            )
        m = self.moves
        return m.loc[(m["from"] == from_key) & (m["to"] == to_key)].reset_index(drop=True)

    def json_flows(self) -> list[dict[str, object]]:
        """The ``flows`` list of the CLI's JSON."""
        return [
            {"from": r["from"], "to": r["to"], "customers": int(r["customers"]), "value": round(float(r["value"]), 2)}
            for r in self.flows.to_dict("records")
        ]


def check_pair(before: Snapshot, after: Snapshot) -> None:
    """Refuse two snapshots that cannot be compared.

    Raises
    ------
    DataError
        The later snapshot is not later, the segment keys come from different
        models (retrain and match first), or no customer id is in both.
    """
    if after.as_of <= before.as_of:
        raise DataError(
            f"The 'to' snapshot ({after.as_of.isoformat()}) must be later than the 'from' snapshot "
            f"({before.as_of.isoformat()})."
        )
    if after.key_space != before.key_space:
        raise DataError(
            "The two snapshots were scored by different models; score both with one model, or match the "
            "retrained model's segments to the earlier ones first."
        )


def migrate(before: Snapshot, after: Snapshot) -> Migration:
    """The flows of customers and value from ``before`` to ``after`` (see the module docstring).

    Raises
    ------
    DataError
        See :func:`check_pair`; also when the two share no customer id.
    """
    check_pair(before, after)
    a = before.customers
    b = after.customers
    # One hash pass over both id columns (ids are unique within a snapshot).
    codes, _ = pd.factorize(pd.concat([a[ID_COLUMN], b[ID_COLUMN]], ignore_index=True))
    lookup = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    lookup[codes[: len(a)]] = np.arange(len(a))
    pos = lookup[codes[len(a) :]]  # position in `before` of each `after` customer, -1 if new
    if not (pos >= 0).any():
        raise DataError(
            f"{before.data_name} ({before.as_of.isoformat()}) and {after.data_name} ({after.as_of.isoformat()}) "
            "share no customer id; migration needs the same customers identified the same way."
        )
    in_after = np.zeros(len(a), dtype=bool)
    in_after[pos[pos >= 0]] = True

    keys_from = [s.key for s in before.segments] + [NEW]
    keys_to = [s.key for s in after.segments] + [GONE]
    code_a = _codes(a[SEGMENT], keys_from)
    code_b = _codes(b[SEGMENT], keys_to)
    new_code, gone_code = len(keys_from) - 1, len(keys_to) - 1
    value_a = a[VALUE].to_numpy(dtype=float)
    value_b = b[VALUE].to_numpy(dtype=float)

    # After-side rows (stayed or new), then the gone ones.
    gone = np.flatnonzero(~in_after)
    frm = np.concatenate([np.where(pos >= 0, code_a[np.maximum(pos, 0)], new_code), code_a[gone]])
    to = np.concatenate([code_b, np.full(len(gone), gone_code)])
    v_before = np.concatenate([np.where(pos >= 0, value_a[np.maximum(pos, 0)], np.nan), value_a[gone]])
    v_after = np.concatenate([value_b, np.full(len(gone), np.nan)])
    moved_value = np.where(np.isnan(v_before), v_after, v_before)

    n_to = len(keys_to)
    pair = frm.astype(np.int64) * n_to + to
    size = len(keys_from) * n_to
    customers = np.bincount(pair, minlength=size)
    value = np.bincount(pair, weights=np.nan_to_num(moved_value), minlength=size)
    nz = np.flatnonzero(customers)
    flows = pd.DataFrame(
        {
            "from": np.array(keys_from, dtype=object)[nz // n_to],
            "to": np.array(keys_to, dtype=object)[nz % n_to],
            "customers": customers[nz].astype(np.int64),
            "value": value[nz],
        }
    )
    moves = pd.DataFrame(
        {
            ID_COLUMN: pd.concat([b[ID_COLUMN], a[ID_COLUMN].iloc[gone]], ignore_index=True),
            "from": pd.Categorical.from_codes(frm, categories=keys_from),
            "to": pd.Categorical.from_codes(to, categories=keys_to),
            "value_before": v_before,
            "value_after": v_after,
        }
    )
    return Migration(before, after, flows, moves)


def _codes(segment: pd.Series, keys: list[str]) -> np.ndarray:
    """Position of each customer's segment key in ``keys``."""
    if isinstance(segment.dtype, pd.CategoricalDtype):
        lookup = np.append(pd.Index(keys).get_indexer(segment.cat.categories.astype(str)), -1)
        codes = lookup[segment.cat.codes.to_numpy()]  # code -1 (missing) picks the appended -1
    else:
        codes = pd.Index(keys).get_indexer(segment.astype(str).to_numpy(dtype=object))
    if (codes < 0).any():  # pragma: no cover - snapshots list their own segments
        raise DataError("A snapshot holds a segment its model does not list.")
    return codes
