package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Deadlines of an in-process run: generous, as the machine is shared
// (Chromium, ffmpeg and the race detector may be running beside it).
const (
	runStartLimit = 30 * time.Second
	runStopLimit  = 15 * time.Second
)

// startInProcess runs serve (runServer or runDemo, which calls up once
// its listeners are bound) in the background until the test ends, and
// returns what it reported. The test fails if it stops before that, does
// not start within runStartLimit, or does not stop cleanly within
// runStopLimit once the test is over.
func startInProcess[T any](t *testing.T, what string, serve func(ctx context.Context, up func(T)) error) T {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	up := make(chan T, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, func(v T) { up <- v }) }()
	var v T
	select {
	case v = <-up:
	case err := <-done:
		cancel()
		t.Fatalf("%s stopped: %v", what, err)
	case <-time.After(runStartLimit):
		cancel()
		t.Fatalf("%s did not start within %s", what, runStartLimit)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(runStopLimit):
			t.Errorf("%s did not stop within %s", what, runStopLimit)
		}
	})
	return v
}

// startDemoWith runs the demo with cfg (on loopback addresses the test
// chose, ":0" for ephemeral ports), printing to stdout.
func startDemoWith(t *testing.T, cfg demoConfig, stdout io.Writer, log *slog.Logger) demoRun {
	t.Helper()
	return startInProcess(t, "demo", func(ctx context.Context, up func(demoRun)) error {
		return runDemo(ctx, cfg, stdout, log, up)
	})
}

// testLog is the log of an in-process run: nothing, or with -v what is
// at level or above, on stderr.
func testLog(level slog.Level) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startPrometheus runs Prometheus (bin) on a free loopback port with the
// configuration yml and its storage in data, its log in dir; the test
// ends it (and shows the log's end if it failed). It returns Prometheus's
// URL once Prometheus says it is ready.
func startPrometheus(t *testing.T, bin, dir, yml, data string, args ...string) string {
	t.Helper()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackPort(t)
	logPath := filepath.Join(dir, "prometheus.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--config.file=" + cfg, "--storage.tsdb.path=" + data, "--web.listen-address=" + addr}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("prometheus log:\n%s", tail(b, 3000))
		}
	})
	url := "http://" + addr
	awaitHTTP(t, "Prometheus ready", url+"/-/ready", 60*time.Second)
	return url
}
