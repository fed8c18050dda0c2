#!/usr/bin/env bash
# Reads the node call on stdin and prints the new context: the employee name lower-cased and the
# amount as a number. Fails (exit 1, message on stderr) when the amount is not numeric.
set -euo pipefail
python3 -c '
import json, sys
call = json.load(sys.stdin)
ctx = {k: v for k, v in call["context"].items() if not k.startswith("_")}
try:
    ctx["amount"] = float(ctx.get("amount"))
except (TypeError, ValueError):
    sys.exit("amount must be a number, got %r" % (ctx.get("amount"),))
ctx["employee"] = str(ctx.get("employee", "")).strip().lower()
print(json.dumps(ctx))
'
