#!/usr/bin/env python3
"""validators.py — glue between scripts/conformance.sh and the validators.

    validators.py zm-profile DEFAULT.json OUT.json
        Write Zonemaster's default profile (from "zonemaster-cli
        --dump-profile") to OUT.json with the levels of LOOPBACK_TAGS
        changed as below, and nothing else. A profile file given to
        zonemaster-cli replaces each module's level table that it names as
        a whole, so a partial profile would silently drop every other
        level of that module: the full default profile is edited instead.

    validators.py zm-findings OUTPUT.txt
        Print each CRITICAL, ERROR, WARNING and NOTICE line of a
        zonemaster-cli run (--show-testcase, default text format) as
        "LEVEL TESTCASE message"; exit status 1 if any is CRITICAL or ERROR.

    validators.py grok-findings GROK.json ZONE
        Print each error and warning in "dnsviz grok" JSON output as
        "error|warning PATH CODE: description"; exit status 1 if any is an
        error about ZONE or a name in it. Findings about other names (the
        local root, com., net. ... that the test bed serves to stand in
        for the Internet) are printed as "testbed-error|testbed-warning"
        and do not count. An empty file (grok found nothing) is no finding.

    validators.py grok-secure GROK.json ZONE NAME...
        From "dnsviz grok -t ANCHOR" JSON output (level info): print the
        status of ZONE's delegation and of each answer RRset of each NAME
        (every query type DNSViz asked), as "NAME/TYPE STATUS"; exit
        status 1 unless all of them are SECURE and there is at least one
        per NAME.

    PYTHON-OF-DNSVIZ validators.py dnsviz ARGS...
        Run "dnsviz ARGS..." (the dnsviz command on PATH) with a stand-in
        for the pygraphviz.release module: Debian 12's dnsviz 0.9.4 asks
        that module for pygraphviz's version before "grok -t" or "graph",
        and Debian's pygraphviz 1.10 no longer has it, so without this
        dnsviz says "pygraphviz is required, but not installed". Must run
        on the Python dnsviz runs on (its #! line).

Only the standard library is used (and, for "dnsviz", dnsviz's own).
"""

import json
import re
import sys

# Zonemaster tags whose level the loopback test bed itself decides, with
# the level used here and why:
#   NAMESERVER_IP_PRIVATE_NETWORK (ADDRESS01, default ERROR): the name
#     servers are on 127.0.0.0/8 because nothing else may be used on this
#     machine; in production they are public addresses. Kept visible as a
#     NOTICE, so that the report still lists it.
LOOPBACK_TAGS = {("ADDRESS", "NAMESERVER_IP_PRIVATE_NETWORK"): "NOTICE"}

LEVELS = ("CRITICAL", "ERROR", "WARNING", "NOTICE")


def zm_profile(default_path, out_path):
    with open(default_path) as f:
        text = f.read()
    # zonemaster-cli may print "Loading profile ..." before the JSON.
    profile = json.loads(text[text.index("{"):])
    for (module, tag), level in LOOPBACK_TAGS.items():
        levels = profile["test_levels"][module]
        if tag not in levels:
            print("zonemaster profile has no %s/%s: update LOOPBACK_TAGS" % (module, tag), file=sys.stderr)
            return 2
        levels[tag] = level
    with open(out_path, "w") as f:
        json.dump(profile, f, indent=1, sort_keys=True)
    return 0


def zm_findings(path):
    bad = 0
    # "   0.01 ERROR     ADDRESS01      Nameserver ..."
    line_re = re.compile(r"^\s*[0-9.]+\s+(CRITICAL|ERROR|WARNING|NOTICE)\s+(\S+)\s+(.*)$")
    with open(path, errors="replace") as f:
        for line in f:
            m = line_re.match(line.rstrip("\n"))
            if m:
                level, case, msg = m.groups()
                print("%s %s %s" % (level, case, msg))
                if level in ("CRITICAL", "ERROR"):
                    bad = 1
    return bad


def in_zone(name, zone):
    name, zone = name.lower().rstrip(".") + ".", zone.lower().rstrip(".") + "."
    return name == zone or name.endswith("." + zone)


def grok_findings(path, zone):
    with open(path) as f:
        text = f.read()
    if not text.strip():
        return 0
    data = json.loads(text)
    bad = 0

    def walk(node, where):
        nonlocal bad
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("errors", "warnings") and isinstance(value, list):
                    for item in value:
                        kind = "error" if key == "errors" else "warning"
                        if not where or not in_zone(where[0], zone):
                            kind = "testbed-" + kind
                        elif kind == "error":
                            bad = 1
                        servers = item.get("servers") or []
                        print("%s %s %s: %s%s" % (kind, "/".join(where) or ".", item.get("code", "?"), item.get("description", ""),
                                                  (" (servers %s)" % ", ".join(servers)) if servers else ""))
                else:
                    walk(value, where + [key])
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    walk(data, [])
    return bad


def grok_secure(path, zone, names):
    with open(path) as f:
        data = json.load(f)
    bad = 0
    delegation = (data.get(zone) or {}).get("delegation") or {}
    status = delegation.get("status", "absent")
    print("%s/DS %s" % (zone, status))
    if status != "SECURE":
        bad = 1
    for name in names:
        seen = 0
        for query, result in ((data.get(name) or {}).get("queries") or {}).items():
            for rrset in result.get("answer") or []:
                seen += 1
                print("%s %s" % (rrset.get("id", query), rrset.get("status")))
                if rrset.get("status") != "SECURE":
                    bad = 1
        if not seen:
            print("%s no answer analysed" % name)
            bad = 1
    return bad


def dnsviz(args):
    import runpy
    import shutil
    import types
    try:
        import pygraphviz
        if not hasattr(pygraphviz, "release"):
            release = types.ModuleType("pygraphviz.release")
            release.version = pygraphviz.__version__
            sys.modules["pygraphviz.release"] = release
            pygraphviz.release = release
    except ImportError:
        pass  # dnsviz then says what is missing itself
    path = shutil.which("dnsviz")
    if path is None:
        print("dnsviz not found on PATH", file=sys.stderr)
        return 127
    sys.argv = [path] + args
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "dnsviz":
        return dnsviz(argv[2:])
    if len(argv) == 4 and argv[1] == "zm-profile":
        return zm_profile(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "zm-findings":
        return zm_findings(argv[2])
    if len(argv) >= 5 and argv[1] == "grok-secure":
        return grok_secure(argv[2], argv[3], argv[4:])
    if len(argv) == 4 and argv[1] == "grok-findings":
        return grok_findings(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
