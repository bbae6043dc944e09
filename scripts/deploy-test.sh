#!/usr/bin/env bash
# deploy-test.sh — validates the deployment files in scripts/deploy/:
#
#   alerts.yml              promtool check rules; promtool test rules alerts_test.yml
#   prometheus.yml          promtool check config (rule_files relative to it)
#   grafana-dashboard.json  valid JSON, Grafana essentials (schemaVersion,
#                           ${DS_PROMETHEUS}, region/cdn variables), every
#                           metric name in an expr exists in the Go code, every
#                           expr is valid PromQL, strict decode with Grafana's
#                           schema types (grafana-foundation-sdk, fetched with
#                           go; SKIP when offline)
#   ns1.toml, ns2.toml      cdnsteer check; the two differ only in the [server]
#                           listener addresses; their [prometheus] queries are
#                           valid PromQL
#   cdnsteer.{socket,service} systemd-analyze verify (when it can run here) and
#                           systemd-analyze security --offline (exposure <= 2.0)
#   geoipupdate.{service,timer}  the same (exposure <= 3.0)
#   cdnsteer.sysusers       systemd-sysusers --dry-run
#   cdnsteer.tmpfiles       systemd-tmpfiles --create in a scratch root
#
# and then, end to end on loopback, unless DEPLOY_TEST_LIVE=0: ns1 and ns2
# (from ns1.toml / ns2.toml, addresses moved to 127.0.0.1, plus a probe) and
# a real Prometheus that scrapes them, evaluates alerts.yml and serves
# synthetic RUM / CDN-log series to their [prometheus] queries. It checks
# that every metric and label the dashboard and alerts use is really
# exported, that every dashboard query runs, that all rules evaluate, that
# the queries of the policy turn into signals, that ns1 and ns2 agree on
# their answers, and runs scripts/smoke.sh against ns1.
#
# Prints one PASS/FAIL (or SKIP) line per check; exits 1 if any failed.
# Installs Debian's prometheus package (for promtool) when promtool is
# missing; never starts its service. Run it from anywhere, as root or with
# promtool installed:
#   scripts/deploy-test.sh
#
# Environment:
#   CDNSTEER          a cdnsteer binary to use instead of building ./cmd/cdnsteer
#   DEPLOY_TEST_LIVE  0 skips the end-to-end part
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/procs.sh
repo=$PWD
deploy=$repo/scripts/deploy

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

failures=0
tmp=''
pids=()

pass() { echo "PASS $*"; }
fail() {
	echo "FAIL $*"
	failures=$((failures + 1))
}
skip() { echo "SKIP $*"; }
indent() { sed 's/^/    /'; }

# check NAME CMD...: runs CMD, prints PASS/FAIL NAME and CMD's output indented.
check() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if ((rc == 0)); then
		pass "$name"
	else
		fail "$name (exit $rc)"
	fi
	[[ -z $out ]] || printf '%s\n' "$out" | indent
	return 0
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	stop_pids "${pids[@]}"
	[[ -n $tmp ]] && rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdnsteer-deploy-test.XXXXXX")

# ---------------------------------------------------------------------------
echo "=== tools"
if ! command -v python3 >/dev/null 2>&1; then
	fail "python3 is missing (apt-get install python3)"
	exit 1
fi
if ! command -v promtool >/dev/null 2>&1; then
	if [[ $(id -u) -ne 0 ]]; then
		fail "promtool is missing; install Debian's prometheus package as root (apt-get install prometheus)"
		exit 1
	fi
	echo "installing Debian's prometheus package for promtool"
	# The package starts its service where systemd runs; nothing here needs
	# it, so a policy-rc.d that denies starts is in place meanwhile.
	policy_rc=/usr/sbin/policy-rc.d
	made_policy=0
	if [[ ! -e $policy_rc ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy_rc"
		chmod 755 "$policy_rc"
		made_policy=1
	fi
	rc=0
	{ DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } || rc=$?
	((made_policy)) && rm -f "$policy_rc"
	if ((rc != 0)) || ! command -v promtool >/dev/null 2>&1; then
		fail "installing the prometheus package (promtool) failed"
		exit 1
	fi
fi
pass "tools: $(promtool --version 2>&1 | head -1)"

# ---------------------------------------------------------------------------
echo "=== alert rules"
check "promtool check rules scripts/deploy/alerts.yml" promtool check rules "$deploy/alerts.yml"
check "promtool test rules scripts/deploy/alerts_test.yml" promtool test rules "$deploy/alerts_test.yml"
# The scrape of cdnsteer names a CA and a token file under /etc/prometheus,
# which promtool wants to exist: a copy names stand-ins.
mkdir -p "$tmp/promcfg"
: >"$tmp/promcfg/cdnsteer-ca.crt"
(umask 077 && echo stand-in-token >"$tmp/promcfg/cdnsteer.token")
sed -e "s|/etc/prometheus/|$tmp/promcfg/|g" "$deploy/prometheus.yml" >"$tmp/promcfg/prometheus.yml"
cp "$deploy/alerts.yml" "$tmp/promcfg/"
check "promtool check config scripts/deploy/prometheus.yml" promtool check config "$tmp/promcfg/prometheus.yml"

# ---------------------------------------------------------------------------
echo "=== cdnsteer binary and policies"
bin=${CDNSTEER:-}
if [[ -z $bin ]]; then
	bin=$tmp/cdnsteer
	if out=$(CGO_ENABLED=0 go build -o "$bin" ./cmd/cdnsteer 2>&1); then
		pass "go build ./cmd/cdnsteer"
	else
		fail "go build ./cmd/cdnsteer"
		printf '%s\n' "$out" | indent
		bin=''
	fi
elif [[ -x $bin ]]; then
	pass "using CDNSTEER=$bin"
else
	fail "CDNSTEER=$bin is not executable"
	bin=''
fi
# check reads the token file and the certificate the policy names, as a
# start does: each policy is checked in a folder laid out like /etc/cdnsteer
# (admin.token mode 0600, tls/admin.crt and .key for its management name).
mkpki() {
	local dir=$1 ip=$2
	mkdir -p "$dir/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$ip" \
		-addext "subjectAltName=IP:$ip" -keyout "$dir/tls/admin.key" -out "$dir/tls/admin.crt" >/dev/null 2>&1
	(umask 077 && printf 'ops %s write\nprometheus %s read\n' "$(head -c 24 /dev/urandom | base64)" "$(head -c 24 /dev/urandom | base64)" >"$dir/admin.token")
}
declare -A mgmt=([ns1]=10.53.0.1 [ns2]=10.53.0.2)
for f in ns1 ns2; do
	if [[ -n $bin ]]; then
		mkpki "$tmp/etc-$f" "${mgmt[$f]}"
		cp "$deploy/$f.toml" "$tmp/etc-$f/policy.toml"
		check "cdnsteer check -config scripts/deploy/$f.toml (with its token file and certificate)" "$bin" check -config "$tmp/etc-$f/policy.toml"
	else
		fail "cdnsteer check -config scripts/deploy/$f.toml: no cdnsteer binary"
	fi
done

# Comments aside, ns1.toml and ns2.toml may differ only in server.dns and
# server.http: every other line decides answers and must be identical.
strip_listeners() {
	python3 - "$1" <<'EOF'
import sys
table = ""
for line in open(sys.argv[1], encoding="utf-8"):
    s = line.strip()
    if not s or s.startswith("#"):
        continue
    if s.startswith("["):
        table = s
    if table == "[server]" and (s.startswith("dns ") or s.startswith("dns=") or s.startswith("http ") or s.startswith("http=")):
        continue
    print(line, end="")
EOF
}
if d=$(diff <(strip_listeners "$deploy/ns1.toml") <(strip_listeners "$deploy/ns2.toml")); then
	pass "ns1.toml and ns2.toml differ only in [server] dns/http"
else
	fail "ns1.toml and ns2.toml differ beyond [server] dns/http"
	printf '%s\n' "$d" | indent
fi

# ---------------------------------------------------------------------------
echo "=== Grafana dashboard"
check "python3 -m json.tool scripts/deploy/grafana-dashboard.json" python3 -m json.tool "$deploy/grafana-dashboard.json" /dev/null

# The PromQL helper: lists exprs of the dashboard, alerts and policies,
# finds the metric and label names in them, substitutes Grafana variables.
cat >"$tmp/promql.py" <<'EOF'
import json, re, sys, tomllib

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "atan2", "start", "end"}
CLAUSE = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def grafana_vars(expr):
    """The expr with Grafana's variables replaced by values that run."""
    expr = expr.replace("$__rate_interval", "1m").replace("$__range", "5m").replace("$__interval", "15s")
    expr = expr.replace('job=~"$job"', 'job="cdnsteer"')
    return re.sub(r"\$\{?[A-Za-z_]+\}?", ".*", expr)


def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def metric_names(expr):
    s = strip_strings(expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = CLAUSE.sub(" ", s)
    names = set()
    for m in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*", s):
        tok = m.group(0)
        if tok in KEYWORDS or s[m.end():].lstrip().startswith("("):
            continue
        names.add(tok)
    return names


def selectors(expr):
    """(metric or None, [(label, op, value)]) of every {…} selector."""
    out = []
    for m in SELECTOR.finditer(expr):
        out.append((m.group(1), MATCHER.findall(m.group(2))))
    return out


def clause_labels(expr):
    labels = set()
    for m in CLAUSE.finditer(strip_strings(expr)):
        labels.update(x.strip() for x in m.group(2).split(",") if x.strip())
    return labels


def dashboard_exprs(path):
    d = json.load(open(path, encoding="utf-8"))
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((f'panel "{p.get("title")}"', t["expr"]))
            walk(p.get("panels", []))

    walk(d.get("panels", []))
    for a in d.get("annotations", {}).get("list", []):
        if a.get("expr"):
            out.append((f'annotation "{a["name"]}"', a["expr"]))
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.match(r"\s*label_values\((.*),\s*[a-zA-Z_]+\s*\)\s*$", q or "")
        if v.get("type") == "query" and m:
            out.append((f'variable "{v["name"]}"', m.group(1)))
    return out


def alert_exprs(path):
    # alerts.yml is YAML; without a YAML library, take the expr scalars
    # (one line, or a block after "expr: |").
    out, lines, i = [], open(path, encoding="utf-8").read().split("\n"), 0
    while i < len(lines):
        m = re.match(r"^(\s*)expr:\s*(.*)$", lines[i])
        if not m:
            i += 1
            continue
        if m.group(2).startswith("|") or m.group(2).startswith(">"):
            ind, block, i = len(m.group(1)), [], i + 1
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > ind):
                block.append(lines[i])
                i += 1
            out.append(("rule", "\n".join(block).strip()))
        else:
            out.append(("rule", m.group(2).strip()))
            i += 1
    return out


def policy_exprs(path):
    p = tomllib.load(open(path, "rb")).get("prometheus") or {}
    out = [(f"queries.{k}", v) for k, v in sorted((p.get("queries") or {}).items())]
    out += [(f"timestamps.{k}", v) for k, v in sorted((p.get("timestamps") or {}).items())]
    if p.get("samples"):
        out.append(("samples", p["samples"]))
    return out


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "rules-file":
        # A rules file with every expr as a recording rule, for promtool.
        exprs = []
        for kind, path in zip(sys.argv[2::2], sys.argv[3::2]):
            exprs += {"dashboard": dashboard_exprs, "policy": policy_exprs}[kind](path)
        print("groups:\n  - name: exprs\n    rules:")
        for i, (where, e) in enumerate(exprs):
            print(f"      - record: expr_{i}\n        expr: {json.dumps(grafana_vars(e))}")
EOF
export PYTHONPATH=$tmp

# Every metric name used in an expr must be one cdnsteer exports (a
# "cdnsteer_…" string in its non-test Go code; histograms add _bucket,
# _sum, _count), one of the Go/process collectors' that cdnsteer
# registers, or Prometheus's own "up".
grep -rhoE --include='*.go' --exclude='*_test.go' '"cdnsteer_[a-z_]+"' . | tr -d '"' | sort -u >"$tmp/go-metrics.txt"
if out=$(python3 - "$deploy/grafana-dashboard.json" "$deploy/alerts.yml" "$tmp/go-metrics.txt" <<'EOF' 2>&1
import sys
from promql import dashboard_exprs, alert_exprs, metric_names
known = set(open(sys.argv[3]).read().split())
extra = {"up", "process_start_time_seconds", "process_resident_memory_bytes", "process_cpu_seconds_total",
         "process_open_fds", "process_max_fds"}
bad, n, used = [], 0, set()
for where, e in dashboard_exprs(sys.argv[1]) + alert_exprs(sys.argv[2]):
    n += 1
    for name in metric_names(e):
        base = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in known:
                base = name[: -len(suffix)]
        used.add(base)
        if base not in known and name not in extra:
            bad.append(f"{where}: {name}")
print(f"{n} exprs, {len(used)} metric names: {' '.join(sorted(used))}")
unused = sorted(known - used)
if unused:
    print("exported but not used: " + " ".join(unused))
if bad:
    print("unknown metric names:\n" + "\n".join(bad))
    sys.exit(1)
EOF
); then
	pass "every metric name in the dashboard and alert exprs exists in the Go code"
else
	fail "metric names in the dashboard or alert exprs that the Go code does not export"
fi
printf '%s\n' "$out" | indent

if out=$(python3 - "$deploy/grafana-dashboard.json" <<'EOF' 2>&1
import json, re, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
errs = []
if not 36 <= d.get("schemaVersion", 0) <= 41:
    errs.append(f"schemaVersion {d.get('schemaVersion')} (want about 39)")
if not any(i.get("name") == "DS_PROMETHEUS" and i.get("pluginId") == "prometheus" for i in d.get("__inputs", [])):
    errs.append("no DS_PROMETHEUS input")
vars_ = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
if vars_.get("DS_PROMETHEUS", {}).get("type") != "datasource":
    errs.append("no DS_PROMETHEUS datasource variable")
for name in ("region", "cdn"):
    v = vars_.get(name)
    q = v and (v["query"]["query"] if isinstance(v["query"], dict) else v["query"])
    if not v or not re.match(rf"label_values\(.*,\s*{name}\)$", q or ""):
        errs.append(f"variable {name} is not label_values(…, {name})")
ids, n = set(), 0
def walk(panels):
    global n
    for p in panels:
        n += 1
        if p["id"] in ids:
            errs.append(f"duplicate panel id {p['id']}")
        ids.add(p["id"])
        if p.get("type") != "row" and p.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}":
            errs.append(f'panel "{p.get("title")}" does not use ${{DS_PROMETHEUS}}')
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}":
                errs.append(f'a target of "{p.get("title")}" does not use ${{DS_PROMETHEUS}}')
        walk(p.get("panels", []))
walk(d["panels"])
print(f"schemaVersion {d['schemaVersion']}, {n} panels, variables: {' '.join(vars_)}")
if errs:
    print("\n".join(errs))
    sys.exit(1)
EOF
); then
	pass "dashboard: schemaVersion, \${DS_PROMETHEUS} everywhere, policy/region/cdn variables"
else
	fail "dashboard structure"
fi
printf '%s\n' "$out" | indent

# The dashboard model, strictly: decode it with the Grafana Foundation SDK's
# generated types (every core panel plugin registered), which reject unknown
# fields and missing required ones. Needs the Go module proxy (or a module
# cache that has the SDK); SKIP when it cannot be fetched. Everything
# happens in a scratch module under $tmp.
gsdk=$tmp/gsdk
mkdir -p "$gsdk"
cat >"$gsdk/go.mod" <<'EOF'
module deploytest/grafanacheck

go 1.26
EOF
cat >"$gsdk/main.go" <<'EOF'
// Command grafanacheck strictly decodes and validates a Grafana dashboard.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

func main() {
	plugins.RegisterDefaultPlugins()
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	// Keys of the export format that the import dialog consumes.
	for _, k := range []string{"__inputs", "__requires", "__elements"} {
		delete(m, k)
	}
	clean, _ := json.Marshal(m)
	var d dashboard.Dashboard
	// The SDK reports success as a typed nil, hence the message test.
	if err := d.UnmarshalJSONStrict(clean); err != nil && err.Error() != "" {
		fmt.Println(err)
		os.Exit(1)
	}
	if err := d.Validate(); err != nil && err.Error() != "" {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Printf("%d top-level panels and rows, schemaVersion %d\n", len(d.Panels), d.SchemaVersion)
}
EOF
if ! command -v go >/dev/null 2>&1; then
	skip "dashboard against Grafana's schema: go is not installed"
elif ! out=$(cd "$gsdk" && go get github.com/grafana/grafana-foundation-sdk/go@v0.0.22 2>&1 && go mod tidy 2>&1); then
	skip "dashboard against Grafana's schema: cannot fetch github.com/grafana/grafana-foundation-sdk/go (offline?)"
	printf '%s\n' "$out" | tail -3 | indent
else
	check "dashboard decodes strictly as a Grafana dashboard (grafana-foundation-sdk v0.0.22)" \
		bash -c 'cd "$1" && go run . "$2"' _ "$gsdk" "$deploy/grafana-dashboard.json"
fi

# PromQL syntax: every dashboard expr (Grafana variables substituted) and
# every [prometheus] query of the policies, as recording rules for promtool.
python3 "$tmp/promql.py" rules-file dashboard "$deploy/grafana-dashboard.json" \
	policy "$deploy/ns1.toml" policy "$deploy/ns2.toml" >"$tmp/exprs.rules.yml"
check "dashboard exprs and policy PromQL queries parse (promtool check rules)" promtool check rules "$tmp/exprs.rules.yml"

# ---------------------------------------------------------------------------
echo "=== systemd units"
# verify_units NAME FILE...: systemd-analyze verify on copies of the units
# in which the programs they run are ones that exist here (the cdnsteer
# built above; /bin/true for geoipupdate when it is not installed).
verify_units() {
	local name=$1 f rc=0 out syntax
	shift
	rm -rf "$tmp/unit" && mkdir -p "$tmp/unit"
	for f in "$@"; do
		sed -e "s|/usr/local/bin/cdnsteer|${bin:-/bin/true}|g" \
			-e "s|/usr/bin/geoipupdate|$(command -v geoipupdate || echo /bin/true)|g" "$f" >"$tmp/unit/${f##*/}"
	done
	out=$(cd "$tmp/unit" && systemd-analyze verify "${@##*/}" 2>&1) || rc=$?
	# FILE:LINE: messages are about a unit's text (unknown keys, bad
	# values); anything else is this environment (no systemd as PID 1…).
	syntax=$(printf '%s\n' "$out" | grep -E "\.(service|timer|socket):[0-9]+:" || true)
	if [[ -n $syntax ]]; then
		fail "systemd-analyze verify $name: syntax errors"
		printf '%s\n' "$out" | indent
	elif ((rc == 0)) && [[ -z $out ]]; then
		pass "systemd-analyze verify $name (no warnings)"
	else
		skip "systemd-analyze verify $name could not run fully here (exit $rc); no syntax error reported:"
		printf '%s\n' "$out" | indent
	fi
}
# security UNIT MAX: the offline exposure score, failing above MAX.
security() {
	local unit=$1 max=$2 rc=0 out score
	out=$(systemd-analyze security --offline=true "$unit" 2>&1) || rc=$?
	score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' | tail -1)
	if [[ -z $score ]]; then
		skip "systemd-analyze security --offline did not run here (exit $rc):"
		printf '%s\n' "$out" | tail -5 | indent
	elif python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)" "$score" "$max"; then
		pass "systemd-analyze security ${unit##*/}: exposure $score (at most $max)"
		printf '%s\n' "$out" | grep -E '^✗' | indent || true
	else
		fail "systemd-analyze security ${unit##*/}: exposure $score, above $max"
		printf '%s\n' "$out" | grep -E '^✗' | indent || true
	fi
}
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze verify/security: systemd-analyze is not installed here (Debian package systemd)"
else
	verify_units "scripts/deploy/cdnsteer.{socket,service}" "$deploy/cdnsteer.socket" "$deploy/cdnsteer.service"
	verify_units "scripts/deploy/geoipupdate.{service,timer}" "$deploy/geoipupdate.service" "$deploy/geoipupdate.timer"
	security "$deploy/cdnsteer.service" 2.0
	security "$deploy/geoipupdate.service" 3.0
fi
if command -v systemd-sysusers >/dev/null 2>&1; then
	check "systemd-sysusers --dry-run scripts/deploy/cdnsteer.sysusers" systemd-sysusers --dry-run "$deploy/cdnsteer.sysusers"
else
	skip "systemd-sysusers is not installed here"
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
	mkdir -p "$tmp/root"
	if out=$(systemd-tmpfiles --root="$tmp/root" --create "$deploy/cdnsteer.tmpfiles" 2>&1) && [[ -d $tmp/root/var/lib/GeoIP ]]; then
		pass "systemd-tmpfiles --create scripts/deploy/cdnsteer.tmpfiles (in a scratch root: /var/lib/GeoIP made)"
	else
		fail "systemd-tmpfiles --create scripts/deploy/cdnsteer.tmpfiles"
	fi
	[[ -z $out ]] || printf '%s\n' "$out" | indent
else
	skip "systemd-tmpfiles is not installed here"
fi

# ---------------------------------------------------------------------------
if [[ ${DEPLOY_TEST_LIVE:-1} == 0 ]]; then
	skip "end-to-end run (DEPLOY_TEST_LIVE=0)"
elif [[ -z $bin ]]; then
	fail "end-to-end run: no cdnsteer binary"
elif [[ ! -x /usr/bin/prometheus ]]; then
	skip "end-to-end run: /usr/bin/prometheus is missing"
else
	echo "=== end to end: ns1 + ns2 + Prometheus on loopback"
	live=$tmp/live
	mkdir -p "$live/ns1" "$live/ns2" "$live/prom"
	read -r dns1 dns2 http1 http2 promport < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(5):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
	)
	# The policies with loopback addresses, files under $live and the local
	# Prometheus, plus a probe of akamai (ns1's /healthz stands in for a test
	# object) so that the probe series exist.
	mkpolicy() {
		local src=$1 dst=$2 dnsport=$3 httpport=$4 dir=$5
		sed -e "s|^dns = .*|dns = [\"127.0.0.1:$dnsport\"]|" \
			-e "s|^http = .*|http = \"127.0.0.1:$httpport\"|" \
			-e "s|^admin_token_file = .*|admin_token_file = \"$live/admin.token\"|" \
			-e "/^http_tls_/d" \
			-e "s|^nats = .*|nats = [\"nats://127.0.0.1:${natsports[0]}\", \"nats://127.0.0.1:${natsports[1]}\", \"nats://127.0.0.1:${natsports[2]}\"]\ninstance = \"$(basename "$dir")\"|" \
			-e "s|^decision_log = .*|decision_log = \"$dir/decisions.jsonl\"|" \
			-e "s|^database = .*|database = \"$dir/GeoLite2-Country.mmdb\"|" \
			-e "s|^url = \"http://10\.53\.0\.10:9090\"|url = \"http://127.0.0.1:$promport\"|" \
			-e "s|^serial = \(.*\)|serial = \1\n[zone.dnssec]\nkeys = \"$live/keys\"|" \
			"$src" >"$dst"
		# A configured GeoIP database that is not loaded keeps /readyz at
		# 503: MaxMind's own test database stands in for GeoLite2.
		cp "$repo/geo/testdata/maxmind/GeoLite2-Country-Test.mmdb" "$dir/GeoLite2-Country.mmdb"
		cat >>"$dst" <<EOF

[cdn.akamai.probe]
url = "http://127.0.0.1:$http1/healthz"
interval = "1s"
EOF
		grep -q "127.0.0.1:$promport" "$dst" && grep -q "127.0.0.1:$dnsport" "$dst" && grep -q "127.0.0.1:$httpport" "$dst"
	}
	# The fleet's three NATS nodes from nats-N.conf, moved to loopback ports
	# and stores under $live: a drain sent to ns1 must reach ns2 through them.
	read -r -a natsports < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
	# Named tokens (on loopback the listeners need no TLS).
	token=$(head -c 24 /dev/urandom | base64) readtoken=$(head -c 24 /dev/urandom | base64)
	(umask 077 && printf 'ops %s write\nviewer %s read\n' "$token" "$readtoken" >"$live/admin.token")
	# Both nameservers sign with the same key, as a real pair does, so the
	# DNSSEC metrics the alerts use are exported.
	"$bin" keygen -zone live.example.com. -dir "$live/keys" >/dev/null || fail "end-to-end: cdnsteer keygen"
	natsrc=ok
	if ! command -v nats-server >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
		echo "installing Debian's nats-server package"
		apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nats-server >/dev/null || true
	fi
	if ! command -v nats-server >/dev/null 2>&1; then
		natsrc=missing
		fail "end-to-end: nats-server is missing (apt-get install nats-server)"
	else
		hosts=(10.53.0.1 10.53.0.2 10.53.0.10)
		for i in 1 2 3; do
			mkdir -p "$live/nats-$i"
			route=()
			for k in 1 2 3; do
				route+=(-e "s|nats-route://${hosts[k - 1]}:6222|nats-route://127.0.0.1:${natsports[k + 2]}|")
			done
			sed -e "s|^listen: .*|listen: 127.0.0.1:${natsports[i - 1]}|" -e '/^http: /d' \
				-e "s|store_dir: .*|store_dir: \"$live/nats-$i/js\"|" \
				-e "s|^  listen: .*|  listen: 127.0.0.1:${natsports[i + 2]}|" "${route[@]}" \
				"$deploy/nats-$i.conf" >"$live/nats-$i/nats.conf"
			nats-server -c "$live/nats-$i/nats.conf" >"$live/nats-$i/log" 2>&1 &
			pids+=($!)
		done
	fi
	ok=1
	mkpolicy "$deploy/ns1.toml" "$live/ns1/policy.toml" "$dns1" "$http1" "$live/ns1" || ok=0
	mkpolicy "$deploy/ns2.toml" "$live/ns2/policy.toml" "$dns2" "$http2" "$live/ns2" || ok=0
	((ok)) || fail "end-to-end: rewriting ns1.toml/ns2.toml for loopback"

	# Synthetic RUM and CDN-log series, as recording rules: counters that
	# grow with time() at fixed rates. In eu, edgio fails 30% of requests
	# with a p90 TTFB above a second; everything else is healthy.
	python3 - "$live/prom/synthetic.rules.yml" <<'EOF'
import sys
cdns = {"akamai": 300, "edgio": 120, "fastly": 200, "cloudfront": 150}  # Gbit/s delivered
regions = ["kr", "jp", "eu", "na", "default"]
def series(value, **labels):
    e = f"vector(time() * {value})"
    for k, v in labels.items():
        e = f'label_replace({e}, "{k}", "{v}", "", "")'
    return e
rules = {}
bad = ("edgio", "eu")
rules["rum_ttfb_seconds_bucket"] = [series(n, cdn=c, region=r, le=le) for c in cdns for r in regions
                                    for le, n in zip(("0.1", "0.25", "0.5", "1", "+Inf"),
                                                     (5, 10, 20, 50, 100) if (c, r) == bad else (50, 80, 95, 99, 100))]
rules["rum_segment_requests_total"] = [series(n, cdn=c, region=r, outcome=o) for c in cdns for r in regions
                                       for o, n in (("ok", 700 if (c, r) == bad else 990),
                                                    ("error", 300 if (c, r) == bad else 10))]
rules["rum_beacons_total"] = [series(100, cdn=c, region=r) for c in cdns for r in regions]
rules["cdn_log_requests_total"] = [series(n, cdn=c, cache_status=s) for c in cdns for s, n in (("hit", 950), ("miss", 50))]
rules["cdn_log_bytes_sent_total"] = [series(g * 1e9 / 8, cdn=c) for c, g in cdns.items()]
with open(sys.argv[1], "w") as f:
    f.write("groups:\n  - name: synthetic\n    interval: 1s\n    rules:\n")
    for name, parts in rules.items():
        f.write(f"      - record: {name}\n        expr: >-\n          " + "\n          or ".join(parts) + "\n")
EOF
	cat >"$live/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $deploy/alerts.yml
  - $live/prom/synthetic.rules.yml
scrape_configs:
  - job_name: cdnsteer
    static_configs:
      - targets: ["127.0.0.1:$http1"]
        labels: {instance: ns1, nameserver: ns1.live.example.com}
      - targets: ["127.0.0.1:$http2"]
        labels: {instance: ns2, nameserver: ns2.live.example.com}
EOF
	/usr/bin/prometheus --config.file="$live/prom/prometheus.yml" --storage.tsdb.path="$live/prom/data" \
		--web.listen-address="127.0.0.1:$promport" >"$live/prom/log" 2>&1 &
	pids+=($!)
	# Prometheus first, so that the instances' first query round finds it.
	for ((n = 0; n < 100; n++)); do
		python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "http://127.0.0.1:$promport/-/ready" 2>/dev/null && break
		sleep 0.2
	done
	"$bin" serve -config "$live/ns1/policy.toml" >"$live/ns1/log" 2>&1 &
	pids+=($!)
	"$bin" serve -config "$live/ns2/policy.toml" >"$live/ns2/log" 2>&1 &
	pids+=($!)

	# Wait (at most 60 s) until both instances are ready, Prometheus
	# scrapes them, and the Prometheus signals have reached the engines.
	# A query to each instance every second: the queries counter has a
	# series only once a query was answered, and the dashboard's rates need
	# one.
	export PROM="http://127.0.0.1:$promport" NS1="http://127.0.0.1:$http1" NS2="http://127.0.0.1:$http2" DNS1=$dns1 DNS2=$dns2
	if out=$(python3 - <<'EOF' 2>&1
import json, os, socket, struct, sys, time, urllib.parse, urllib.request
def ask(port):
    qname = b"".join(bytes([len(l)]) + l for l in b"stream.live.example.com".split(b".")) + b"\0"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        s.sendto(struct.pack(">HHHHHH", 0x1234, 0, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1), ("127.0.0.1", int(port)))
        s.recv(4096)
def get(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.read().decode()
def q(expr):
    return json.loads(get(os.environ["PROM"] + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})))["data"]["result"]
deadline, last = time.time() + 60, ""
while time.time() < deadline:
    try:
        get(os.environ["NS1"] + "/readyz"); get(os.environ["NS2"] + "/readyz")
        ask(os.environ["DNS1"]); ask(os.environ["DNS2"])
        up = q('sum(up{job="cdnsteer"})')
        sig = q('count(cdnsteer_cdn_signal{signal="throughput_gbps"}) by (instance)')
        rate = q('count(rate(cdnsteer_dns_queries_total[1m]))')
        if up and float(up[0]["value"][1]) == 2 and len(sig) == 2 and rate:
            print(f"ready after {60 - (deadline - time.time()):.0f}s")
            sys.exit(0)
        last = f"up={up} signals={sig}"
    except Exception as e:
        last = str(e)
    time.sleep(1)
print("not ready after 60s: " + last)
sys.exit(1)
EOF
	); then
		pass "end-to-end: ns1, ns2 ready, scraped, and steering on the Prometheus signals ($out)"
	else
		fail "end-to-end: instances not ready or no signals from Prometheus: $out"
		for f in "$live/ns1/log" "$live/ns2/log" "$live/prom/log"; do
			echo "    --- $f (last 20 lines)"
			tail -20 "$f" | indent
		done
	fi

	# Every metric and label the dashboard and alerts use is exported, with
	# the label values they match on.
	curl_ok=1
	for i in 1 2; do
		u=NS$i
		python3 -c "import os,urllib.request,sys; sys.stdout.write(urllib.request.urlopen(os.environ['$u']+'/metrics',timeout=5).read().decode())" >"$live/metrics$i.txt" || curl_ok=0
	done
	if ((curl_ok)) && out=$(python3 - "$deploy/grafana-dashboard.json" "$deploy/alerts.yml" "$live/metrics1.txt" "$live/metrics2.txt" <<'EOF' 2>&1
import re, subprocess, sys
from promql import dashboard_exprs, alert_exprs, selectors, clause_labels, metric_names
labels, values = {}, {}
for path in sys.argv[3:]:
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s', line)
        name = m.group(1)
        labels.setdefault(name, set())
        for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""):
            labels[name].add(k)
            values.setdefault((name, k), set()).add(v)
target = {"job", "instance", "nameserver"}
labels["up"] = set()
go_strings = set(re.findall(r'"([A-Za-z0-9_]+)"', subprocess.run(
    ["sh", "-c", "grep -rh --include='*.go' --exclude='*_test.go' -o '\"[A-Za-z0-9_]*\"' ."],
    capture_output=True, text=True).stdout))
# cdnsteer_dns_queries_total exports only what happened, and a loopback
# run sees no SERVFAIL: the rcodes dnsserver counts (countedRcodes, named
# as miekg/dns names them, 16 as BADVERS) are values it exports.
values.setdefault(("cdnsteer_dns_queries_total", "rcode"), set()).update(
    ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other"))
errs, checked = [], 0
for where, e in dashboard_exprs(sys.argv[1]) + alert_exprs(sys.argv[2]):
    names = metric_names(e)
    for n in names:
        if n not in labels:
            errs.append(f"{where}: {n} is not exported")
    avail = set(target)
    for n in names:
        avail |= labels.get(n, set())
    for name, matchers in selectors(e):
        own = (labels.get(name, set()) | target) if name else avail
        for k, op, v in matchers:
            checked += 1
            if k not in own:
                errs.append(f"{where}: {name or ''}{{{k}…}}: no label {k}")
            elif name and k not in target and op in ("=", "!=", "=~") and "$" not in v and v not in ("", ".*", ".+"):
                for alt in (v.split("|") if op == "=~" else [v]):
                    if alt not in values.get((name, k), set()) and alt not in go_strings:
                        errs.append(f'{where}: {name}{{{k}="{alt}"}}: value never exported')
    for k in clause_labels(e):
        checked += 1
        if k not in avail and k != "le":
            errs.append(f"{where}: by/without/on/ignoring ({k}): no such label on {' '.join(sorted(names))}")
print(f"{len(labels)} metric families exported; {checked} label references checked")
if errs:
    print("\n".join(sorted(set(errs))))
    sys.exit(1)
EOF
	); then
		pass "end-to-end: every metric, label and label value used by the dashboard and alerts is exported"
	else
		fail "end-to-end: dashboard/alerts use metrics or labels that are not exported"
	fi
	printf '%s\n' "${out:-no /metrics}" | indent

	# Every dashboard query runs against the real Prometheus; most return data.
	if out=$(python3 - "$deploy/grafana-dashboard.json" <<'EOF' 2>&1
import json, os, sys, urllib.parse, urllib.request
from promql import dashboard_exprs, grafana_vars
errs, empty, n = [], [], 0
for where, e in dashboard_exprs(sys.argv[1]):
    n += 1
    url = os.environ["PROM"] + "/api/v1/query?" + urllib.parse.urlencode({"query": grafana_vars(e)})
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            res = json.loads(r.read().decode())
    except Exception as ex:
        errs.append(f"{where}: {ex}")
        continue
    if res.get("status") != "success":
        errs.append(f"{where}: {res.get('error')}")
    elif not res["data"]["result"]:
        empty.append(where)
print(f"{n} queries ran, {n - len(errs) - len(empty)} with data")
if empty:
    print("no data yet (expected for events that did not happen): " + "; ".join(sorted(set(empty))))
if errs:
    print("\n".join(errs))
    sys.exit(1)
EOF
	); then
		pass "end-to-end: every dashboard query runs on Prometheus"
	else
		fail "end-to-end: dashboard queries that Prometheus rejects"
	fi
	printf '%s\n' "$out" | indent

	# The rules load and evaluate without error; edgio's 30% errors in eu
	# make it degraded, so CdnsteerCDNDegraded is pending or firing.
	if out=$(python3 - <<'EOF' 2>&1
import json, os, sys, time, urllib.parse, urllib.request
def get(path):
    with urllib.request.urlopen(os.environ["PROM"] + path, timeout=5) as r:
        return json.loads(r.read().decode())["data"]
deadline = time.time() + 60
while True:
    rules = [r for g in get("/api/v1/rules")["groups"] if g["name"].startswith("cdnsteer") for r in g["rules"]]
    bad = [f'{r["name"]}: {r["health"]} {r.get("lastError", "")}' for r in rules if r["health"] != "ok"]
    deg = get("/api/v1/query?" + urllib.parse.urlencode({"query": 'cdnsteer_cdn_status{cdn="edgio",region="eu",status="degraded"} == 1'}))["result"]
    if (not bad and len(deg) == 2) or time.time() > deadline:
        break
    time.sleep(1)
alerts = sorted({f'{a["labels"]["alertname"]}({a["state"]})' for a in get("/api/v1/alerts")["alerts"]})
print(f"{len(rules)} alerting rules; alerts now: {' '.join(alerts) or 'none'}")
print(f"edgio degraded in eu on {len(deg)} of 2 instances")
if bad or not rules or len(deg) != 2:
    print("\n".join(bad))
    for r in get("/api/v1/query?" + urllib.parse.urlencode({"query": '{__name__=~"cdnsteer_cdn_(score|status|signal)", cdn="edgio", region="eu"} != 0'}))["result"]:
        print(f'{r["metric"]} = {r["value"][1]}')
    sys.exit(1)
EOF
	); then
		pass "end-to-end: all alert rules evaluate (health ok); the synthetic eu error spike degrades edgio on ns1 and ns2"
	else
		fail "end-to-end: rules or steering on the synthetic signals"
	fi
	printf '%s\n' "$out" | indent

	if out=$(python3 - "$live/metrics1.txt" "$live/metrics2.txt" <<'EOF' 2>&1
import re, sys
bad = []
for path in sys.argv[1:]:
    for line in open(path):
        m = re.match(r'(cdnsteer_prometheus_(?:dropped_series_total|query_total))\{(.*)\} (\S+)', line)
        if m and float(m.group(3)) > 0 and ("dropped" in m.group(1) or 'result="error"' in m.group(2)):
            bad.append(line.strip())
print("\n".join(bad) or "no query errors, no dropped series")
sys.exit(1 if bad else 0)
EOF
	); then
		pass "end-to-end: the [prometheus] queries of ns1.toml/ns2.toml run without errors or dropped series"
	else
		fail "end-to-end: the [prometheus] queries fail or return unusable series"
	fi
	printf '%s\n' "$out" | indent

	if command -v dig >/dev/null 2>&1; then
		check "end-to-end: scripts/smoke.sh 127.0.0.1 $dns1 live.example.com (ns1)" bash scripts/smoke.sh 127.0.0.1 "$dns1" live.example.com
		# Same policy, same shared signals: a client subnet gets the same CDN
		# from ns1 and ns2. While a CDN degrades or ramps back the two may be
		# an evaluation apart, so compare again until they agree (90 s at most).
		start=$SECONDS
		while :; do
			same=0 total=0 diffs=''
			for i in $(seq 1 60); do
				subnet=10.$((i % 250)).$((i * 7 % 250)).0/24
				a=$(dig @127.0.0.1 -p "$dns1" stream.live.example.com A +norec +short +time=2 +tries=1 +subnet="$subnet" || true)
				b=$(dig @127.0.0.1 -p "$dns2" stream.live.example.com A +norec +short +time=2 +tries=1 +subnet="$subnet" || true)
				total=$((total + 1))
				if [[ -n $a && $a == "$b" ]]; then
					same=$((same + 1))
				else
					diffs+=" $subnet:ns1=${a:-none},ns2=${b:-none}"
				fi
			done
			((same != total && SECONDS - start < 90)) || break
			sleep 2
		done
		if ((same == total)); then
			pass "end-to-end: ns1 and ns2 give the same CDN to all $total client subnets (after $((SECONDS - start))s)"
		else
			fail "end-to-end: ns1 and ns2 disagree on $((total - same)) of $total subnets for 90s:$diffs"
		fi

		# The fleet: a drain sent to ns1 alone changes ns2's answers. Drain
		# whichever CDN ns2 gives the first subnet (its explain names the CDN
		# and its target), then wait (10 s at most) until ns2 answers that
		# target to none of 20 subnets.
		if [[ $natsrc == ok ]]; then
			read -r cdn target < <(curl -fsS -H "Authorization: Bearer $readtoken" "http://127.0.0.1:$http2/api/v1/explain?name=stream.live.example.com&client=127.0.0.1&ecs=10.1.7.0/24" |
				python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["cdn"], e["target"])')
			start=$SECONDS
			if id=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
				-d "{\"action\":\"drain\",\"cdn\":\"$cdn\",\"ttl\":\"10m\",\"reason\":\"deploy test: fleet\"}" \
				"http://127.0.0.1:$http1/api/v1/overrides" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'); then
				for ((n = 0; n < 100 && SECONDS - start < 10; n++)); do
					hits=0
					for i in $(seq 1 20); do
						a=$(dig @127.0.0.1 -p "$dns2" stream.live.example.com A +norec +short +time=2 +tries=1 +subnet=10.1.$((i * 7)).0/24 | head -1)
						[[ $a == "$target" || -z $a ]] && hits=$((hits + 1))
					done
					((hits == 0)) && break
					sleep 0.1
				done
				if ((hits == 0)); then
					pass "end-to-end: a drain of $cdn sent to ns1 alone reached ns2's answers through NATS (after $((SECONDS - start))s)"
				else
					fail "end-to-end: ns2 still answers $cdn for $hits of 20 subnets 10 s after a drain sent to ns1"
					tail -20 "$live/ns2/log" | indent
				fi
				curl -fsS -o /dev/null -X DELETE -H "Authorization: Bearer $token" "http://127.0.0.1:$http2/api/v1/overrides/$id" ||
					fail "end-to-end: ending ns1's drain on ns2"
			else
				fail "end-to-end: POST /api/v1/overrides to ns1"
			fi
		fi
	else
		skip "end-to-end smoke.sh and ns1/ns2 agreement: dig is missing (apt-get install bind9-dnsutils)"
	fi
fi

# ---------------------------------------------------------------------------
echo
if ((failures)); then
	echo "deploy-test.sh: $failures check(s) FAILED"
	exit 1
fi
echo "deploy-test.sh: all checks passed"
