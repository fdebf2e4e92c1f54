"""``mapping``: write the suggested column mapping of a file, to check and edit."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipeline.config import Settings

from .options import add_database_options, data_argument, data_source, emit

NAME = "mapping"
HELP = "write the suggested column mapping of a file (JSON, to edit)"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``mapping``."""
    p.add_argument(
        "--data", type=data_argument, required=True, help="customer table or transaction log (a file or a database URL)"
    )
    add_database_options(p)
    p.add_argument("--out", type=Path, required=True, help="mapping JSON file to write")
    p.add_argument(
        "--kind", choices=("marketing", "customer_table", "transactions"), help="input kind (default: detected)"
    )
    p.add_argument("--k", type=int, default=4, help="number of segments the check assumes (default 4)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args: argparse.Namespace) -> int:
    """Write the suggested column mapping of a file, for the user to check and edit."""
    from pipeline.data.detect import detect_kind, suggest_mapping
    from pipeline.data.ingest import validate_table
    from pipeline.data.reading import file_bytes, read_table
    from pipeline.data.sql import read_source

    source = data_source(args)
    if isinstance(source, Path):
        table, name = read_table(file_bytes(source), source.name), source.name
    else:
        read = read_source(source, confined=False)  # the command line's own user (pipeline.data.sql's notes)
        table, name = read.frame, read.name
    detection = detect_kind(table)
    kind = args.kind or detection.kind
    mapping = suggest_mapping(table, kind)
    validation = validate_table(table, mapping, Settings(k=args.k), name)
    mapping.save(args.out)
    payload = {
        "out": str(args.out),
        "detection": detection.to_dict(),
        "mapping": mapping.to_dict(),
        "n_customers": validation.n_customers,
        "features": list(validation.features),
        "problems": list(validation.problems),
    }
    emit(args, payload, mapping_text)
    return 0


def mapping_text(p: dict[str, Any]) -> str:
    """Human-readable ``mapping`` summary."""
    det = p["detection"]
    lines = [f"{det['label']} ({det['confidence']} confidence)"]
    lines += [f"  - {e}" for e in det["evidence"]]
    lines.append(f"wrote the suggested {p['mapping']['kind']} mapping to {p['out']}; check it and edit it if needed")
    if p["problems"]:
        lines.append("with this mapping, training would be refused:")
        lines += [f"  - {m}" for m in p["problems"]]
    else:
        lines.append(f"with this mapping: {p['n_customers']:,} customers, features {', '.join(p['features'])}")
    if p["mapping"].get("custom_features"):
        cols = " ".join(f'"{c}"' if " " in c else c for c in p["mapping"]["custom_features"])
        lines.append(f"or choose the columns: python -m pipeline train --data FILE --features {cols}")
    lines.append(f"then: python -m pipeline train --data FILE --mapping {p['out']}")
    return "\n".join(lines)
