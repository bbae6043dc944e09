package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/zones"
)

// stormPolicy is a policy of 50 steered names whose answers carry ttl.
func stormPolicy(ttl int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\ndns = [\"127.0.0.1:0\"]\n\n[regions]\nkr = [\"KR\"]\ndefault = [\"*\"]\n\n")
	for _, c := range []string{"akamai", "fastly", "edgio"} {
		fmt.Fprintf(&b, "[cdn.%s]\ntarget = \"live.%s.example.net.\"\n", c, c)
	}
	for p := range 50 {
		fmt.Fprintf(&b, "[policy.p%d]\nttl = %d\n[policy.p%d.region.default]\nweights = { akamai = 40, fastly = 30, edgio = 30 }\n", p, ttl, p)
	}
	b.WriteString("[[zone]]\norigin = \"live.example.com.\"\nns = [\"ns1.elsewhere.example.\"]\n")
	for p := range 50 {
		fmt.Fprintf(&b, "[[zone.steer]]\nname = \"m%d\"\npolicy = \"p%d\"\n", p, p)
	}
	return b.String()
}

// TestReloadStorm replaces the policy file 100 times within about a
// second while a client queries without pause (issue 22): every query is
// answered, every answer is one of the policies written, and the server
// settles on the last one and stays there.
func TestReloadStorm(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.toml")
	write := func(ttl int) {
		tmp := filepath.Join(dir, fmt.Sprintf("next-%d.toml", ttl))
		if err := os.WriteFile(tmp, []byte(stormPolicy(ttl)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(100)
	snap, err := zones.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	up := make(chan started, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServer(ctx, snap, slog.New(slog.NewTextHandler(io.Discard, nil)), func(s started) { up <- s })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var addr string
	select {
	case s := <-up:
		addr = s.DNS[0]
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}

	// asker returns a client of its own: ask sends one query and returns
	// the answer's TTL; 0 is no answer within 2 s (lost).
	asker := func() func(name string) uint32 {
		conn, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		var id uint16
		buf := make([]byte, 1500)
		return func(name string) uint32 {
			id++
			q := new(dns.Msg)
			q.SetQuestion(name, dns.TypeA)
			q.Id = id
			pkt, _ := q.Pack()
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			if _, err := conn.Write(pkt); err != nil {
				return 0
			}
			for {
				n, err := conn.Read(buf)
				if err != nil {
					return 0
				}
				r := new(dns.Msg)
				if r.Unpack(buf[:n]) != nil || r.Id != id {
					continue // a late answer to an earlier query
				}
				if len(r.Answer) != 1 {
					return 1 // answered, but not with a steered CNAME
				}
				return r.Answer[0].Header().Ttl
			}
		}
	}
	ask, clientAsk := asker(), asker()
	if ttl := ask("m0.live.example.com."); ttl != 100 {
		t.Fatalf("before the storm: TTL %d, want 100", ttl)
	}

	var (
		mu           sync.Mutex
		asked, lost  int
		wrong        []uint32
		stop         = make(chan struct{})
		clientDone   = make(chan struct{})
		stormStarted = time.Now()
	)
	go func() {
		defer close(clientDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ttl := clientAsk(fmt.Sprintf("m%d.live.example.com.", i%50))
			mu.Lock()
			asked++
			switch {
			case ttl == 0:
				lost++
			case ttl < 100 || ttl > 200:
				wrong = append(wrong, ttl)
			}
			mu.Unlock()
		}
	}()
	// 100 replacements spread over a second (less where writing is slow).
	for i := 1; i <= 100; i++ {
		write(100 + i)
		time.Sleep(time.Until(stormStarted.Add(time.Duration(i) * 10 * time.Millisecond)))
	}
	t.Logf("100 replacements in %s", time.Since(stormStarted).Round(time.Millisecond))
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := asked
		mu.Unlock()
		if ttl := ask("m7.live.example.com."); ttl == 200 && n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the last policy written (TTL 200) is not answered 30 s after the storm")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Settled: a reload still pending must not bring an older file back.
	time.Sleep(500 * time.Millisecond)
	close(stop)
	<-clientDone
	for i := range 50 {
		if ttl := ask(fmt.Sprintf("m%d.live.example.com.", i)); ttl != 200 {
			t.Errorf("after the storm m%d answers TTL %d, want 200", i, ttl)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d queries during the storm, %d lost", asked, lost)
	if lost > 0 {
		t.Errorf("%d of %d queries lost during the reload storm", lost, asked)
	}
	if len(wrong) > 0 {
		t.Errorf("answers with TTLs no policy written had: %v", wrong[:min(len(wrong), 10)])
	}
	if asked < 100 {
		t.Errorf("only %d queries during the storm", asked)
	}
}
