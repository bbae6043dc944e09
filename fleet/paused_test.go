//go:build linux

package fleet

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Tests against a real nats-server (scripts/fleet-test.sh sets
// CDNSTEER_NATS_SERVER; plain `go test ./...` skips them): what a server
// that stops answering (SIGSTOP: its sockets stay open) must not hold up.

// fakeEngine is the engine as the fleet sees it.
type fakeEngine struct {
	mu sync.Mutex
	os []health.Override
}

func (e *fakeEngine) Overrides(now time.Time) []health.Override {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []health.Override
	for _, o := range e.os {
		if o.Expires.After(now) {
			out = append(out, o)
		}
	}
	return out
}

func (e *fakeEngine) ApplyOverride(o health.Override, now time.Time) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if slices.ContainsFunc(e.os, func(x health.Override) bool { return x.ID == o.ID }) {
		return false, nil
	}
	e.os = append(e.os, o)
	return true, nil
}

func (e *fakeEngine) EndAppliedOverride(id string, now time.Time, reason string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.os)
	e.os = slices.DeleteFunc(e.os, func(x health.Override) bool { return x.ID == id })
	return len(e.os) < n
}

func (e *fakeEngine) CheckSignal(s health.Signal) error { return nil }
func (e *fakeEngine) Push(sigs ...health.Signal)        {}

func (e *fakeEngine) has(id string) bool {
	return slices.ContainsFunc(e.Overrides(time.Now()), func(x health.Override) bool { return x.ID == id })
}

type fakeNotes struct{}

func (fakeNotes) Put(n health.Annotation, now time.Time) (bool, error) { return true, nil }
func (fakeNotes) Since(t time.Time) []health.Annotation                { return nil }

// natsServer runs one JetStream nats-server on a free loopback port.
func natsServer(t *testing.T) (url string, proc *os.Process) {
	t.Helper()
	bin := os.Getenv("CDNSTEER_NATS_SERVER")
	if bin == "" {
		t.Skip("needs a real nats-server: run scripts/fleet-test.sh")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(l.Addr().(*net.TCPAddr).Port), "-js", "-sd", filepath.Join(dir, "js"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	return "nats://" + addr, cmd.Process
}

func startFleet(t *testing.T, ctx context.Context, url, name string, e *fakeEngine) *Fleet {
	t.Helper()
	f, err := Start(ctx, Config{NATS: []string{url}, Bucket: "paused-test", Instance: name, Engine: e, Notes: fakeNotes{}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func status(f *Fleet) Status { return f.Status(time.Now()).(Status) }

// sees tells whether f is connected, has its writes in the bucket and
// hears from every peer named.
func sees(f *Fleet, peers ...string) bool {
	st := status(f)
	if !st.Connected || st.Unreplicated != 0 {
		return false
	}
	for _, p := range peers {
		if !slices.ContainsFunc(st.Instances, func(in Instance) bool { return in.Instance == p && !in.Stale }) {
			return false
		}
	}
	return true
}

func eventually(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > limit {
			t.Fatalf("no %s within %s", what, limit)
		}
	}
}

// within fails the test when do takes longer than limit: the limits
// here are far above what the calls take (no I/O), and far below the
// seconds a call waiting on the paused server takes.
func within(t *testing.T, what string, limit time.Duration, do func()) {
	t.Helper()
	start := time.Now()
	do()
	if d := time.Since(start); d > limit {
		t.Fatalf("%s took %s with NATS paused (limit %s)", what, d, limit)
	}
}

func drain(id string, now time.Time) health.Override {
	return health.Override{ID: id, Action: "drain", CDN: "akamai", Region: "kr", Reason: "test",
		Created: now, Expires: now.Add(10 * time.Minute)}
}

// TestPausedNATSHoldsNothingUp: with the server paused, a fleet starts
// at once, its hooks and status return at once, a write made meanwhile
// stays pending, and a fleet stops within a second or so (it used to
// wait on deleting its watcher's consumer, and to connect before
// returning from Start, each several seconds against a paused server).
// Once the server answers again the write reaches the others.
func TestPausedNATSHoldsNothingUp(t *testing.T) {
	url, server := natsServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ea, eb := &fakeEngine{}, &fakeEngine{}
	a := startFleet(t, ctx, url, "a", ea)
	bctx, stopB := context.WithCancel(ctx)
	b := startFleet(t, bctx, url, "b", eb)
	eventually(t, "a and b in touch", 30*time.Second, func() bool { return sees(a, "b") && sees(b, "a") })
	o := drain("beforepause", time.Now())
	ea.ApplyOverride(o, time.Now())
	a.OverrideAdded(o)
	eventually(t, "a's drain on b", 10*time.Second, func() bool { return eb.has(o.ID) })

	if err := server.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	ec := &fakeEngine{}
	var c *Fleet
	within(t, "Start", time.Second, func() { c = startFleet(t, ctx, url, "c", ec) })
	p := drain("duringpause", time.Now())
	within(t, "the hooks and the status", time.Second, func() {
		ea.ApplyOverride(p, time.Now())
		a.OverrideAdded(p)
		a.AnnotationAdded(health.Annotation{ID: "note1", Time: time.Now(), Text: "paused"})
		a.SignalsPushed([]health.Signal{{CDN: "akamai", Region: "kr", Time: time.Now()}})
		a.OverrideEnded(o, time.Now(), "ended while paused")
		ea.EndAppliedOverride(o.ID, time.Now(), "")
		status(a)
		status(c)
	})
	// b, then paused for a while (its connection seen stale, nats.go
	// reconnecting to a server that takes connections and never
	// answers), stops promptly.
	time.Sleep(4 * time.Second)
	stopB()
	within(t, "stopping", 3*time.Second, func() { <-b.Done() })
	if status(a).Unreplicated == 0 {
		t.Fatal("a's writes made while NATS was paused count as replicated")
	}

	if err := server.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a's writes made during the pause on c", 30*time.Second, func() bool {
		return ec.has(p.ID) && !ec.has(o.ID) && sees(a, "c") && sees(c, "a")
	})
}
