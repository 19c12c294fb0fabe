"""Generated contracts in schemas/: the JSON Schema of a normalized document and the DDL.

`make schemas` writes them; a test fails when the committed files are stale.
"""

import json
from pathlib import Path


def render_contracts() -> dict[str, str]:
    """File name → content, all generated from the code."""
    from pipeline.catalog import datasette_metadata
    from pipeline.records import NormalizedDocument
    from pipeline.schema import relation_columns, schema_ddl

    schema = NormalizedDocument.model_json_schema()
    browse = datasette_metadata(relation_columns())
    return {
        "normalized-document.schema.json": json.dumps(schema, ensure_ascii=False, indent=2) + "\n",
        "sqlite.sql": schema_ddl("sqlite"),
        "postgres.sql": schema_ddl("postgresql"),
        "datasette-metadata.json": json.dumps(browse, ensure_ascii=False, indent=2) + "\n",
    }


def write_contracts(out: Path, check: bool = False) -> list[str]:
    """Write (or with check, only compare) the contracts; returns the names that changed."""
    changed = []
    for name, content in render_contracts().items():
        target = out / name
        if target.exists() and target.read_text(encoding="utf-8") == content:
            continue
        changed.append(name)
        if not check:
            out.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
    return changed
