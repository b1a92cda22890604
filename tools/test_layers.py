#!/usr/bin/env python3
"""Prints a `swift test --skip` regex matching the integration layer: every
suite and test tagged `.integration` in Tests/ (the tag is the one place that
says which layer a test is in). swift test of Swift 6.3 takes regexes of test
ids, not tags (`--skip tag:integration` came later), so scripts/test --fast
derives one from the tags.

  swift test --skip-build --skip "$(python3 tools/test_layers.py)"
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAGGED = re.compile(r"@(Suite|Test)\b[^\n]*\.tags\([^)]*\.integration")
TYPE = re.compile(r"^\s*(?:public\s+|final\s+)*(?:struct|class|enum|actor)\s+(\w+)")
FUNC = re.compile(r"\bfunc\s+(\w+)\s*\(")


def integration_ids(root):
    """Test-id fragments: `.Type/` for a tagged suite, `.Type/name(` for a tagged test."""
    found = []
    for path in sorted(glob.glob(os.path.join(root, "Tests", "*", "*.swift"))):
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        suite_pending, test_pending, current = False, False, None
        for line in lines:
            if match := TYPE.match(line):
                if suite_pending:
                    found.append(re.escape(f".{match.group(1)}/"))
                    suite_pending = False
                if not line[0].isspace():
                    current = match.group(1)  # a test's id names its top-level suite
            tagged = TAGGED.search(line)
            if tagged and tagged.group(1) == "Suite":
                suite_pending = True
            elif tagged:
                test_pending = True
            if test_pending and (function := FUNC.search(line)):
                found.append(re.escape(f".{current}/{function.group(1)}("))
                test_pending = False
    return found


def main():
    ids = integration_ids(ROOT)
    if not ids:
        sys.exit("test_layers: no suite or test tagged .integration under Tests/")
    print("|".join(ids))


if __name__ == "__main__":
    main()
