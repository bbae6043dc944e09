package dnsserver

import (
	"bufio"
	"io"
	"math"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/zones"
)

// The cost of dnstap on the query path, per query: off (one atomic load),
// on but the query not sampled (a random draw), sampled and logged (the
// clock, the rate bound, a ring slot, the copy); and the writer's cost
// per logged query (two messages encoded and framed), paid in its own
// goroutine. Each is measured with the steered query and its reply.

func tapBenchPacket(b *testing.B) (*Handler, []byte, []byte) {
	h := testHandler(b)
	q := steeredQuery(dns.TypeA)
	q.SetEdns0(1232, false)
	pkt, err := q.Pack()
	if err != nil {
		b.Fatal(err)
	}
	reply := h.Respond(make([]byte, 0, maxMessageSize), pkt, netip.MustParseAddr("198.51.100.7"), false)
	return h, pkt, reply
}

var (
	benchClient = netip.MustParseAddrPort("198.51.100.7:40000")
	benchServer = netip.MustParseAddrPort("127.0.0.1:53")
)

// BenchmarkSteeredATapOff is BenchmarkSteeredA with the hook, dnstap off.
func BenchmarkSteeredATapOff(b *testing.B) {
	h, pkt, _ := tapBenchPacket(b)
	benchTapped(b, h, pkt)
}

// BenchmarkSteeredATapUnsampled: dnstap on, this query outside the sample.
func BenchmarkSteeredATapUnsampled(b *testing.B) {
	h, pkt, _ := tapBenchPacket(b)
	h.SetTap(newTap(zones.Dnstap{Sample: math.SmallestNonzeroFloat64, Rate: 1000}, NewTapMetrics(prometheus.NewRegistry())))
	benchTapped(b, h, pkt)
}

func benchTapped(b *testing.B, h *Handler, pkt []byte) {
	buf := make([]byte, 0, maxMessageSize)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out := h.Respond(buf, pkt, benchClient.Addr(), false)
		h.tapped(pkt, out, benchClient, benchServer, false)
	}
}

// BenchmarkTapUnsampled is the hook alone for a query outside the sample.
func BenchmarkTapUnsampled(b *testing.B) {
	_, pkt, reply := tapBenchPacket(b)
	tap := newTap(zones.Dnstap{Sample: 0.01, Rate: 1000}, NewTapMetrics(prometheus.NewRegistry()))
	tap.threshold = 0 // nothing sampled
	b.ReportAllocs()
	for b.Loop() {
		tap.record(pkt, reply, benchClient, benchServer, false)
	}
}

// BenchmarkTapLogged is the query path's part of a logged query: the
// ring is emptied as the writer would, outside the timing's concern.
func BenchmarkTapLogged(b *testing.B) {
	_, pkt, reply := tapBenchPacket(b)
	m := NewTapMetrics(prometheus.NewRegistry())
	tap := newTap(zones.Dnstap{Sample: 1, Rate: 1000}, m)
	tap.interval = 0 // no rate bound: every query is logged
	b.ReportAllocs()
	for b.Loop() {
		tap.record(pkt, reply, benchClient, benchServer, false)
		s := tap.ring.next()
		if s == nil {
			b.Fatal("not logged")
		}
		tap.ring.release(s)
	}
}

// BenchmarkTapWrite is the writer's part of a logged query: both
// messages encoded and framed into the stream's buffer.
func BenchmarkTapWrite(b *testing.B) {
	_, pkt, reply := tapBenchPacket(b)
	tap := newTap(zones.Dnstap{Sample: 1, Rate: 1000, Identity: "ns1.example.net"}, NewTapMetrics(prometheus.NewRegistry()))
	tap.interval = 0
	tap.record(pkt, reply, benchClient, benchServer, false)
	s := tap.ring.next()
	out := &tapOutput{w: bufio.NewWriterSize(io.Discard, 64<<10)}
	var frame, msg []byte
	identity, version := []byte("ns1.example.net"), []byte("cdnsteer dev")
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt) + len(reply)))
	for b.Loop() {
		for _, k := range []int{authQuery, authResponse} {
			frame, msg = appendTapMessage(frame[:0], identity, version, s, k, msg)
			out.frame(frame)
		}
	}
}
