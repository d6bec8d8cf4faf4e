"""A small program that asks for approvals on its controlling terminal, like `codex` does
(falling back to refusing when it has no terminal).

usage: approval_program.py CODEX_HOME POLICY WORKSPACE COMMAND_JSON...
Prints `RESULT {json verdict}` for each command, in order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from codex.approvals import ApprovalSession, default_approver
from codex.execpolicy import evaluate, load_rules
from codex.policies import ApprovalPolicy


def main() -> int:
    home, policy, workspace = Path(sys.argv[1]), ApprovalPolicy(sys.argv[2]), Path(sys.argv[3])
    session = ApprovalSession(policy, default_approver(interactive=True), codex_home=home)
    for raw in sys.argv[4:]:
        argv = json.loads(raw)
        decision = evaluate(argv, workspace=workspace, rules=load_rules(home))
        verdict = session.review(argv, cwd=workspace, decision=decision)
        print("RESULT " + json.dumps({
            "run": verdict.run, "asked": verdict.asked, "abort": verdict.abort,
            "review": verdict.review.value if verdict.review else None,
            "reason": verdict.reason}), flush=True)
        if verdict.abort:
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
