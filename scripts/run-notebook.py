"""Runs a notebook's code cells in order in one namespace, from the notebook's folder, the way a
person pressing "Run all" in Jupyter would, without needing Jupyter installed."""

import json
import os
import sys

path = os.path.abspath(sys.argv[1])
with open(path, encoding="utf-8") as f:
    notebook = json.load(f)
os.chdir(os.path.dirname(path))
namespace = {"__name__": "__main__"}
for index, cell in enumerate(notebook.get("cells", [])):
    if cell.get("cell_type") != "code":
        continue
    source = cell.get("source", "")
    code = "".join(source) if isinstance(source, list) else source
    exec(compile(code, f"{path}#cell{index}", "exec"), namespace)
