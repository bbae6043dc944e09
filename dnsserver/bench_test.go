package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/health"
)

func benchQuery(b *testing.B, q *dns.Msg) {
	benchHandler(b, testHandler(b), q)
}

// benchHandler times h answering q from one client.
func benchHandler(b *testing.B, h *Handler, q *dns.Msg) {
	pkt, err := q.Pack()
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, maxMessageSize)
	client := netip.MustParseAddr("198.51.100.7")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if h.Respond(buf, pkt, client, false) == nil {
			b.Fatal("no reply")
		}
	}
}

// BenchmarkSteeredA is one steered A query through the whole handler:
// decode, zone walk, weighted pick, encode.
func BenchmarkSteeredA(b *testing.B) {
	q := steeredQuery(dns.TypeA)
	q.SetEdns0(1232, false)
	benchQuery(b, q)
}

// BenchmarkSteeredECS adds an EDNS Client Subnet option to parse and echo.
func BenchmarkSteeredECS(b *testing.B) {
	benchQuery(b, ecsQuery(1, 24, 0, []byte{203, 0, 113}))
}

// BenchmarkStaticA is a static record, for comparison.
func BenchmarkStaticA(b *testing.B) {
	q := new(dns.Msg)
	q.SetQuestion("player.live.example.com.", dns.TypeA)
	benchQuery(b, q)
}

// BenchmarkSteeredLiveWeights is a steered query with ECS and a region
// lookup in a country database, answered from live weights published by
// the health engine.
func BenchmarkSteeredLiveWeights(b *testing.B) {
	h, _ := geoHandler(b, "testdata/geo.toml", testNets)
	snap := h.State().Snap
	names := make([]string, len(snap.CDNs))
	for i, c := range snap.CDNs {
		names[i] = c.Name
	}
	row := make([]*health.Weights, len(snap.Regions))
	for i := range row {
		row[i] = health.NewWeights(names, []float64{3, 2, 1})
	}
	h.SetLive(health.NewTable([][]*health.Weights{row}))
	benchHandler(b, h, ecsQuery(1, 24, 0, []byte{1, 16, 5}))
}
