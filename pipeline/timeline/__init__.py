"""Segments over time: snapshots, migration between segments, drift.

* :mod:`.snapshot`: a :class:`~.snapshot.Snapshot` is one data set at one
  as-of date scored by one model version; several can be built from one
  transaction log (only the transactions up to each date).
* :mod:`.matching`: a retrained model's segments matched to the old ones by
  centroid (Hungarian assignment), so names stay stable when segments do.
* :mod:`.migration`: who moved from which segment to which (customers and
  value), including new and gone customers.
* :mod:`.drift`: population stability per feature, segment share changes,
  centroid shifts, plain-language alerts and a retrain recommendation.

Pure (no dash), nothing runs at import time.
"""
