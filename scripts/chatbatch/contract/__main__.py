"""Print the export contract's JSON Schemas for producers.

python -m chatbatch.contract                 # {entity: schema, ...} for every entity
python -m chatbatch.contract messages        # one entity's schema
python -m chatbatch.contract --write DIR     # DIR/<entity>.schema.json per entity
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chatbatch.contract import ENTITIES, json_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbatch.contract", description=__doc__.splitlines()[0])
    parser.add_argument("entity", nargs="?", choices=ENTITIES, help="one entity (default: all)")
    parser.add_argument("--write", type=Path, metavar="DIR", help="write <entity>.schema.json files to DIR")
    args = parser.parse_args(argv)
    entities = (args.entity,) if args.entity else ENTITIES
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        for entity in entities:
            path = args.write / f"{entity}.schema.json"
            path.write_text(json.dumps(json_schema(entity), indent=2) + "\n")
            print(path)
        return 0
    out = json_schema(args.entity) if args.entity else {e: json_schema(e) for e in entities}
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
