"""External node: checks an order. Reads {"context", "params", "step_id"} on stdin and prints
[context, signal] on stdout (the third of the three return forms)."""
import json
import sys

call = json.load(sys.stdin)
ctx = call["context"]
order = ctx.get("order") or {}
problems = []
if not order.get("id"):
    problems.append("order.id is required")
amount = order.get("amount")
if not isinstance(amount, (int, float)) or amount <= 0:
    problems.append("order.amount must be a positive number")

public = {k: v for k, v in ctx.items() if not k.startswith("_")}
if problems:
    public.update(decision="rejected", problems=problems)
    print(json.dumps([public, "invalid"]))
else:
    print(json.dumps([public, "valid"]))
