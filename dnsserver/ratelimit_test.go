package dnsserver

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/zones"
)

func rrlHandler(t *testing.T, extra string) (*Handler, *prometheus.Registry) {
	t.Helper()
	data, err := os.ReadFile("testdata/policy.toml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(data), "[cdn.akamai]", extra+"\n[cdn.akamai]", 1)
	snap, err := zones.Parse("testdata/rrl.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	return NewHandler(snap, NewMetrics(reg)), reg
}

// TestRateLimitFlood floods one name from one address over real UDP, a
// bounded burst well above the limit: most replies are dropped, some are
// truncated so that a real client would retry over TCP, and TCP itself is
// never limited.
func TestRateLimitFlood(t *testing.T) {
	h, reg := rrlHandler(t, "[rrl]\nenabled = true\nresponses_per_second = 5\nslip = 2\n")
	s, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, h, Options{UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	defer s.Shutdown(t.Context())
	addr := s.Addrs()[0].String()

	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const flood = 400
	for i := 0; i < flood; i++ {
		q := new(dns.Msg)
		q.SetQuestion("player.live.example.com.", dns.TypeA)
		q.Id = uint16(i)
		pkt, _ := q.Pack()
		conn.Write(pkt)
	}
	full, truncated := 0, 0
	buf := make([]byte, 2048)
	for {
		// Dropped replies never come: stop once the socket is quiet.
		conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := conn.Read(buf)
		if err != nil {
			break
		}
		var r dns.Msg
		if r.Unpack(buf[:n]) != nil {
			t.Fatal("undecodable reply")
		}
		if r.Truncated && len(r.Answer) == 0 {
			truncated++
		} else {
			full++
		}
	}
	dropped := flood - full - truncated
	t.Logf("%d queries: %d answered, %d truncated (slip), %d dropped", flood, full, truncated, dropped)
	if full > 20 {
		t.Errorf("%d full answers to a flood limited to 5/s", full)
	}
	if truncated < 100 || dropped < 100 {
		t.Errorf("want about half the limited replies slipped and half dropped: %d truncated, %d dropped", truncated, dropped)
	}
	if got := counterValue(t, reg, "cdnsteer_rrl_responses_total", "drop"); got < 100 {
		t.Errorf("drop counter = %v", got)
	}
	// TCP proves the source address: never limited.
	q := new(dns.Msg)
	q.SetQuestion("player.live.example.com.", dns.TypeA)
	for i := 0; i < 20; i++ {
		r, _, err := (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(q, addr)
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("TCP query %d during the flood: %v %v", i, r, err)
		}
	}
}

// counterValue reads one counter of name with label action from reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name, action string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == name && l.GetName() == "action" && l.GetValue() == action {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{action=%q}", name, action)
	return 0
}

func TestRateLimitOffByDefaultAndLogOnly(t *testing.T) {
	for _, tc := range []struct{ name, extra string }{{"off", ""}, {"log only", "[rrl]\nenabled = true\nresponses_per_second = 1\nlog_only = true\n"}} {
		t.Run(tc.name, func(t *testing.T) {
			h, reg := rrlHandler(t, tc.extra)
			for i := 0; i < 100; i++ {
				q := new(dns.Msg)
				q.SetQuestion("stream.live.example.com.", dns.TypeA)
				if r := exchange(t, h, q, false); r == nil || r.Truncated || len(r.Answer) != 1 {
					t.Fatalf("query %d limited: %v", i, r)
				}
			}
			// Log only must still judge: the limiter runs and says what it
			// would have limited.
			if tc.extra != "" {
				if n := counterValue(t, reg, "cdnsteer_rrl_responses_total", "would_limit"); n < 90 {
					t.Errorf("log only: %v of 100 replies at 1/s counted would_limit", n)
				}
			}
		})
	}
}

func TestRateLimitFastPathSlips(t *testing.T) {
	h, _ := rrlHandler(t, "[rrl]\nenabled = true\nresponses_per_second = 1\nslip = 1\n")
	var slipped int
	for i := 0; i < 50; i++ {
		q := new(dns.Msg)
		q.SetQuestion("stream.live.example.com.", dns.TypeA)
		r := exchange(t, h, q, false)
		if r == nil {
			t.Fatal("slip 1 must never drop")
		}
		if r.Truncated {
			slipped++
		}
	}
	if slipped < 45 {
		t.Errorf("%d of 50 steered replies slipped at 1/s with slip 1", slipped)
	}
}
