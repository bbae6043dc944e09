package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// cdnSpread asks a running server for the steered name from n client
// subnets (ECS /24s made by subnet) and counts the CDNs answered. Every
// answer must be one CNAME naming one of the demo's CDNs.
func cdnSpread(t *testing.T, addr string, n int, subnet func(i int) [4]byte) map[string]int {
	t.Helper()
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	counts := map[string]int{}
	for i := range n {
		a := netip.AddrFrom4(subnet(i))
		q := new(dns.Msg)
		q.SetQuestion("stream.live.example.com.", dns.TypeA)
		q.SetEdns0(1232, false)
		q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24,
			Address: a.AsSlice()})
		r, _, err := c.Exchange(q, addr)
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("subnet %s/24: %v %v", a, r, err)
		}
		cn, ok := r.Answer[0].(*dns.CNAME)
		if !ok {
			t.Fatalf("subnet %s/24: answer %v is not a CNAME", a, r.Answer[0])
		}
		named := ""
		for _, cdn := range demoCDNs {
			if strings.Contains(cn.Target, cdn) {
				named = cdn
			}
		}
		if named == "" {
			t.Fatalf("subnet %s/24: %s names none of %v", a, cn.Target, demoCDNs)
		}
		counts[named]++
	}
	return counts
}

// Client subnets for cdnSpread: the demo's worldwide and Korean test
// networks, the restart test's KR network, and a run of numbered /24s.
func worldwide(i int) [4]byte { return [4]byte{10, 1, byte(i), 0} }
func korea(i int) [4]byte     { return [4]byte{10, 82, byte(i), 0} }
func krSubnet(i int) [4]byte  { return [4]byte{10, 10, byte(i), 0} }
func numbered(i int) [4]byte  { return [4]byte{10, byte(i >> 8), byte(i), 0} }

// apiCall sends a request to the HTTP endpoint at base (host:port) with a
// bearer token and a JSON body unless they are empty, decodes the answer
// into into unless it is nil, and returns the status.
func apiCall(t *testing.T, base, method, path, token, body string, into any) int {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// await polls cond until it holds, failing the test after limit; it
// returns how long that took.
func await(t *testing.T, what string, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}
