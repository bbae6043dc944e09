package zones

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// replaceFile writes data the way editors and config tools do: into a
// temporary file that is then renamed over the original.
func replaceFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReloaderKeepsOldPolicyOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.toml")
	good := base + zoneHead + "[[zone.steer]]\nname = \"s\"\npolicy = \"p\"\n"
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	r, applied, _ := watchPolicy(t, path, reg)

	// A broken file, renamed into place: counted, nothing applied.
	replaceFile(t, path, good+"[[zone.steer]]\nname = \"t\"\npolicy = \"missing\"\n")
	waitFor(t, "the error to be counted", func() bool {
		return testutil.ToFloat64(r.total.WithLabelValues("error")) == 1
	})
	if v := testutil.ToFloat64(r.ok); v != 0 {
		t.Errorf("last_reload_successful = %v after a failed reload", v)
	}
	select {
	case s := <-applied:
		t.Fatalf("a broken policy was applied: %v", s.File)
	default:
	}

	// A fixed file written in place: applied.
	fixed := good + "[policy.p]\nttl = 7\n"
	if err := os.WriteFile(path, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-applied:
		if s.PolicyByName("p").TTL != 7 {
			t.Errorf("applied policy has ttl %d, want 7", s.PolicyByName("p").TTL)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a fixed policy was never applied")
	}
	if v := testutil.ToFloat64(r.ok); v != 1 {
		t.Errorf("last_reload_successful = %v after a good reload", v)
	}

	// A forced reload of an unchanged file (SIGHUP) still applies.
	r.Trigger("test")
	select {
	case <-applied:
	case <-time.After(10 * time.Second):
		t.Fatal("Trigger did not reload")
	}
	if got := testutil.ToFloat64(r.total.WithLabelValues("success")); got != 2 {
		t.Errorf("success count = %v, want 2", got)
	}
}

// TestReloaderRecoversOnRevert: an operator who undoes a broken edit gets
// back the very file that is running. Nothing is applied, but the file
// and the running policy agree again, so the reload alert must clear.
func TestReloaderRecoversOnRevert(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.toml")
	good := base + zoneHead + "[[zone.steer]]\nname = \"s\"\npolicy = \"p\"\n"
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	r, applied, _ := watchPolicy(t, path, prometheus.NewRegistry())

	for round := 1; round <= 2; round++ {
		replaceFile(t, path, good+"[policy.p]\ncapacity_hard = inf\n")
		waitFor(t, "the error to be counted", func() bool {
			return testutil.ToFloat64(r.total.WithLabelValues("error")) == float64(round)
		})
		if v := testutil.ToFloat64(r.ok); v != 0 {
			t.Fatalf("last_reload_successful = %v after a failed reload", v)
		}
		replaceFile(t, path, good)
		waitFor(t, "last_reload_successful to return to 1 once the file is reverted", func() bool {
			return testutil.ToFloat64(r.ok) == 1
		})
	}
	select {
	case s := <-applied:
		t.Errorf("the unchanged policy was applied again: %v", s.File)
	default:
	}
}

// TestReloaderFollowsSymlinkSwap: Kubernetes mounts a ConfigMap as
// policy.toml -> ..data/policy.toml with ..data -> a timestamped folder,
// and updates it by pointing ..data at a new folder: no event names
// policy.toml. The reloader must still apply the new policy.
func TestReloaderFollowsSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	good := base + zoneHead + "[[zone.steer]]\nname = \"s\"\npolicy = \"p\"\n"
	for v, body := range map[string]string{"v1": good, "v2": good + "[policy.p]\nttl = 9\n"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, v, "policy.toml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "policy.toml")
	if err := os.Symlink(filepath.Join("..data", "policy.toml"), path); err != nil {
		t.Fatal(err)
	}
	_, applied, _ := watchPolicy(t, path, prometheus.NewRegistry())

	// The swap, as the kubelet does it: a new link renamed over ..data.
	if err := os.Symlink("v2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-applied:
		if ttl := s.Policies[0].TTL; ttl != 9 {
			t.Errorf("applied a policy with ttl %d, want the new 9", ttl)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the policy behind the swapped symlink was not applied within 5 s")
	}
}

// watchPolicy loads path and runs a reloader on it until the test ends,
// once it watches the file; applied receives what it applies.
func watchPolicy(t *testing.T, path string, reg *prometheus.Registry) (*Reloader, chan *Snapshot, *Snapshot) {
	t.Helper()
	snap, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	applied := make(chan *Snapshot, 10)
	r := NewReloader(snap, func(s *Snapshot) { applied <- s }, slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-r.Watching()
	return r, applied, snap
}
