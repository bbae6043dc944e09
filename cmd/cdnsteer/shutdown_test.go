package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

const reloadPolicy = `
[server]
dns = ["127.0.0.1:0"]
http = "127.0.0.1:0"
[cdn.a]
target = "a.cdn.example.net."
[policy.live.region.default]
weights = { a = 1 }
[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// reloads reads cdnsteer_config_reload_total{result="success"} from the
// metrics endpoint: 0 before the reloader is up.
func reloads(t *testing.T, httpAddr string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `cdnsteer_config_reload_total{result="success"} `); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0 // not registered yet
}

// TestShutdownDuringReloads: SIGHUPs keep coming while the server shuts
// down. A reload that completes after the publisher has stopped must not
// wait for it to take the new policy: the server returns promptly every
// time.
func TestShutdownDuringReloads(t *testing.T) {
	// The server's own SIGHUP handler comes and goes with it; this one
	// keeps the signal from ending the test binary in between. It stays
	// for the rest of the binary's life: a SIGHUP sent just before the
	// test ends may be delivered after it, and with no handler left Go
	// ends the process on it (CI saw "signal: hangup" once).
	keep := make(chan os.Signal, 1)
	signal.Notify(keep, syscall.SIGHUP)

	path := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte(reloadPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := zones.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const rounds, minReloads, maxSignals, signalEvery = 20, 20, 100000, 200 * time.Microsecond
	for round := 0; round < rounds; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		up := make(chan started, 1)
		done := make(chan error, 1)
		go func() { done <- runServer(ctx, snap, log, func(s started) { up <- s }) }()
		var s started
		select {
		case s = <-up:
		case err := <-done:
			cancel()
			t.Fatalf("serve stopped: %v", err)
		case <-time.After(10 * time.Second):
			cancel()
			t.Fatal("serve did not start")
		}

		stop, stopped := make(chan struct{}), make(chan int, 1)
		go func() {
			// Paced, so that the flood does not starve the server on a
			// small machine; bounded, so that it ends whatever happens.
			tick := time.NewTicker(signalEvery)
			defer tick.Stop()
			sent := 0
			for ; sent < maxSignals; sent++ {
				select {
				case <-stop:
					stopped <- sent
					return
				case <-tick.C:
				}
				syscall.Kill(os.Getpid(), syscall.SIGHUP)
			}
			stopped <- sent
		}()
		await(t, "reloads to pile up", 20*time.Second, func() bool { return reloads(t, s.HTTP) >= minReloads })
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("round %d: serve: %v", round, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the server did not return within 10 s of shutdown while reloads were under way", round)
		}
		close(stop)
		<-stopped
	}
}
