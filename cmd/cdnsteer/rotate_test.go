//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// rotatePolicy has no telemetry, so each region is reported stale once
// signal_max_age has passed: a decision the test can wait for.
const rotatePolicy = `
[server]
dns = ["127.0.0.1:0"]
http = "127.0.0.1:0"
decision_log = "decisions.jsonl"

[dnstap]
file = "queries.dnstap"

[regions]
%s
default = ["*"]

[cdn.akamai]
target = "a.example.net."

[policy.live]
evaluation_interval = "100ms"
signal_max_age = "1s"
[policy.live.region.default]
weights = { akamai = 1 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// As logrotate does it without copytruncate: the decision log and the
// dnstap file are moved away, SIGUSR1 makes the server open new ones
// under the configured names, and what follows goes there, every line
// whole; what came before stays in the moved files.
func TestSIGUSR1ReopensTheLogs(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.toml")
	write := func(regions string) {
		if err := os.WriteFile(policy, []byte(fmt.Sprintf(rotatePolicy, regions)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	p := startServerProc(t, policy, 1, -1)
	log := filepath.Join(dir, "decisions.jsonl")
	tap := filepath.Join(dir, "queries.dnstap")
	staleIn := func(file, region string) bool {
		ds, _, _ := health.ReadJournal(file)
		for _, d := range ds {
			if d.Kind == health.DecisionStale && d.Region == region {
				return true
			}
		}
		return false
	}
	await(t, "default reported stale", 60*time.Second, func() bool { return staleIn(log, "default") })
	for _, f := range []string{log, tap} {
		if err := os.Rename(f, f+".1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Kill(p.pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	await(t, "new files", 60*time.Second, func() bool {
		_, e1 := os.Stat(log)
		_, e2 := os.Stat(tap)
		return e1 == nil && e2 == nil
	})
	// A reload adds region kr, stale a second later: to the new log.
	write(`kr = ["KR"]`)
	if err := syscall.Kill(p.pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	await(t, "kr reported stale", 60*time.Second, func() bool { return staleIn(log, "kr") })
	if staleIn(log+".1", "kr") || staleIn(log, "default") {
		t.Error("a decision went to the wrong file")
	}
	for _, f := range []string{log, log + ".1"} {
		if _, skipped, err := health.ReadJournal(f); skipped != 0 || err != nil {
			t.Errorf("%s: %d lines skipped, %v", f, skipped, err)
		}
	}
	for _, f := range []string{tap, tap + ".1"} {
		raw, _ := os.ReadFile(f)
		if !strings.Contains(string(raw), "protobuf:dnstap.Dnstap") {
			t.Errorf("%s does not start a dnstap stream: %q", f, raw)
		}
	}
	if !strings.Contains(p.log.String(), `msg="reopened on SIGUSR1" log="decision log"`) {
		t.Errorf("reopen not logged:\n%s", p.log.String())
	}
	// The process lives on: SIGUSR1 did not kill it.
	select {
	case <-p.done:
		t.Fatal("the server exited")
	default:
	}
}
