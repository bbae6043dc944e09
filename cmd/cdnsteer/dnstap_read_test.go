package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

const dnstapPolicy = `
[server]
dns = ["127.0.0.1:0", "[::1]:0"]
http = ""

[dnstap]
file = %q
identity = "ns-dnstap-test"

[cdn.akamai]
target = "a.cdn.example.net."

[policy.live]
[policy.live.region.default]
weights = { akamai = 1 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// TestDnstapReadReadsOurFile: BIND's dnstap-read, a reader we did not
// write, reads the file the server wrote while dig asked it over UDP and
// TCP, IPv4 and IPv6, from two client addresses: every query and reply
// is there with its name, addresses, ports and transport, and the reply
// as dig got it. Run by scripts/dnstap-test.sh, which installs the tools
// and sets CDNSTEER_DNSTAP_READ.
func TestDnstapReadReadsOurFile(t *testing.T) {
	reader := os.Getenv("CDNSTEER_DNSTAP_READ")
	if reader == "" {
		t.Skip("needs BIND's dnstap-read and dig: scripts/dnstap-test.sh")
	}
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "queries.dnstap")
	path := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(dnstapPolicy, file)), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := zones.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up := make(chan started, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServer(ctx, snap, slog.New(slog.NewTextHandler(io.Discard, nil)), func(s started) { up <- s })
	}()
	var st started
	select {
	case st = <-up:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}

	type query struct{ name, server, source, proto, answer string }
	var queries []query
	for i, server := range st.DNS {
		host, port := splitHostPort(t, server)
		sources := []string{"127.0.0.1", "127.0.0.2"}
		if strings.Contains(host, ":") {
			sources = []string{"::1"}
		}
		for _, source := range sources {
			for _, proto := range []string{"UDP", "TCP"} {
				name := "stream.live.example.com"
				if proto == "TCP" || source != "127.0.0.1" {
					name = fmt.Sprintf("n%d-%s-%s.live.example.com", i, strings.ReplaceAll(source, ":", ""), proto)
				}
				args := []string{"@" + host, "-p", port, "-b", source, name, "A", "+tries=1", "+time=5"}
				if proto == "TCP" {
					args = append(args, "+tcp")
				}
				out, err := exec.Command(dig, args...).CombinedOutput()
				if err != nil {
					t.Fatalf("dig %v: %v\n%s", args, err, out)
				}
				status := regexp.MustCompile(`status: (\w+)`).FindStringSubmatch(string(out))
				if status == nil {
					t.Fatalf("dig %v:\n%s", args, out)
				}
				queries = append(queries, query{name, server, source, proto, status[1]})
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(reader, file).CombinedOutput()
	if err != nil {
		t.Fatalf("dnstap-read: %v\n%s", err, out)
	}
	text := string(out)
	yaml, err := exec.Command(reader, "-y", file).CombinedOutput()
	if err != nil {
		t.Fatalf("dnstap-read -y: %v\n%s", err, yaml)
	}
	t.Logf("dnstap-read:\n%s\ndnstap-read -y:\n%s", text, yaml)
	for _, q := range queries {
		host, port := splitHostPort(t, q.server)
		for kind, arrow := range map[string]string{"AQ": "->", "AR": "<-"} {
			// 04-Dec-2026 21:08:49.865 AQ 127.0.0.2:43632 -> 127.0.0.1:47612 UDP 64b stream.live.example.com/IN/A
			re := regexp.MustCompile(kind + ` ` + regexp.QuoteMeta(q.source) + `:\d+ ` + arrow + ` ` + regexp.QuoteMeta(host) + `:` + port + ` ` + q.proto + ` \d+b ` + regexp.QuoteMeta(q.name) + `/IN/A`)
			if !re.MatchString(text) {
				t.Errorf("no %s line for %s from %s over %s to %s", kind, q.name, q.source, q.proto, q.server)
			}
		}
		if !strings.Contains(string(yaml), "status: "+q.answer) {
			t.Errorf("dnstap-read -y: no reply with status %s (%s)", q.answer, q.name)
		}
	}
	for _, want := range []string{"identity: ns-dnstap-test", "type: AUTH_QUERY", "type: AUTH_RESPONSE", "- 'stream.live.example.com. 20 IN CNAME a.cdn.example.net.'"} {
		if !strings.Contains(string(yaml), want) {
			t.Errorf("dnstap-read -y lacks %q", want)
		}
	}
	if n := strings.Count(text, "\n"); n != 2*len(queries) {
		t.Errorf("%d messages, want %d", n, 2*len(queries))
	}
}

func splitHostPort(t *testing.T, hp string) (string, string) {
	t.Helper()
	i := strings.LastIndex(hp, ":")
	return strings.Trim(hp[:i], "[]"), hp[i+1:]
}
