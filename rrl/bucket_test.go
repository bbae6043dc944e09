package rrl

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Simulated time: Decide takes now from its caller, so these tests step
// a clock by hand instead of sleeping.
const (
	second = int64(time.Second)
	ms     = int64(time.Millisecond)
)

var (
	client = netip.MustParseAddr("192.0.2.1")
	www    = []byte("www.example.com.")
)

func newLimiter(t testing.TB, cfg Config) *Limiter {
	t.Helper()
	l, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// tally is the actions of n identical answers at one instant.
type tally [3]int // by Action

func send(l *Limiter, c netip.Addr, class Class, name []byte, qtype uint16, now int64, n int) tally {
	var t tally
	for range n {
		t[l.Decide(c, class, name, qtype, now)]++
	}
	return t
}

func answers(l *Limiter, now int64, n int) tally {
	return send(l, client, ClassAnswer, www, dns.TypeA, now, n)
}

func TestBurstIsOneSecondOfRate(t *testing.T) {
	l := newLimiter(t, DefaultConfig())
	if got := answers(l, 0, 100); got[Pass] != 20 {
		t.Errorf("a new key passes %d of 100 at once, want the rate, 20", got[Pass])
	}
	// However long a key is idle, credit stops at one second's worth
	// (BIND's rule): an hour of quiet does not buy an hour's burst.
	if got := answers(l, 3600*second, 100); got[Pass] != 20 {
		t.Errorf("after an idle hour %d of 100 pass at once, want 20", got[Pass])
	}
}

func TestSteadyRatePasses(t *testing.T) {
	l := newLimiter(t, DefaultConfig())
	// 20/s for a minute, evenly spread, with the burst spent first: a
	// client at the rate is never limited.
	answers(l, 0, 20)
	for i := range 20 * 60 {
		now := int64(i+1) * 50 * ms
		if a := l.Decide(client, ClassAnswer, www, dns.TypeA, now); a != Pass {
			t.Fatalf("response %d at the rate: %v", i, a)
		}
	}
	// Faster than the rate, and there is no credit left to absorb it.
	if a := l.Decide(client, ClassAnswer, www, dns.TypeA, 60*second+ms); a == Pass {
		t.Error("a response 1ms after the last one, with no credit, passed")
	}
}

func TestRecovery(t *testing.T) {
	l := newLimiter(t, DefaultConfig()) // 20/s: 50ms a credit
	answers(l, 0, 20)
	if a := answers(l, 0, 1); a[Pass] != 0 {
		t.Fatal("a 21st response at once passed")
	}
	// That one cost a credit too, so it takes two intervals to recover.
	if a := answers(l, 50*ms, 1); a[Pass] != 0 {
		t.Error("passed after one interval, with a limited response to pay for")
	}
	// The probe at 50ms cost another: the debt is paid at 100ms, and the
	// next response costs 50ms, so 150ms is the first to pass. A probe
	// at 149ms is limited and charged in turn, putting that off to 200ms.
	if a := answers(l, 149*ms, 1); a[Pass] != 0 {
		t.Error("passed before the debt was paid")
	}
	if a := answers(l, 199*ms, 1); a[Pass] != 0 {
		t.Error("passed before the debt was paid")
	}
	if a := answers(l, 250*ms, 1); a[Pass] != 1 {
		t.Error("not passed once the debt was paid")
	}
}

func TestWindowBoundsDebt(t *testing.T) {
	for _, window := range []time.Duration{time.Second, 15 * time.Second, time.Minute} {
		cfg := DefaultConfig()
		cfg.Window = window
		l := newLimiter(t, cfg)
		w := int64(window)
		// A long flood: the debt stops growing at the window …
		for i := range 600 {
			answers(l, int64(i)*100*ms, 100)
		}
		stop := 599 * 100 * ms // the flood's last response
		// … so the client is answered again a window (and one interval
		// for its own response) after it stops, however long it flooded.
		if a := answers(l, stop+w-ms, 1); a[Pass] != 0 {
			t.Errorf("window %s: passed before the window was over", window)
		}
		l = newLimiter(t, cfg)
		for i := range 600 {
			answers(l, int64(i)*100*ms, 100)
		}
		if a := answers(l, stop+w+50*ms, 1); a[Pass] != 1 {
			t.Errorf("window %s: still limited a window after the flood", window)
		}
	}
}

func TestSlip(t *testing.T) {
	for _, tc := range []struct {
		slip int
		want string // actions of the limited responses: s slip, d drop
	}{
		{0, "dddddd"},
		{1, "ssssss"},
		{2, "sdsdsd"},
		{3, "sddsdd"},
	} {
		cfg := DefaultConfig()
		cfg.Slip = tc.slip
		l := newLimiter(t, cfg)
		answers(l, 0, 20)
		got := ""
		for range len(tc.want) {
			switch l.Decide(client, ClassAnswer, www, dns.TypeA, 0) {
			case Slip:
				got += "s"
			case Drop:
				got += "d"
			default:
				got += "p"
			}
		}
		if got != tc.want {
			t.Errorf("slip %d: limited responses went %s, want %s", tc.slip, got, tc.want)
		}
	}
}

func TestLogOnly(t *testing.T) {
	cfg := DefaultConfig()
	cfg.LogOnly = true
	l := newLimiter(t, cfg)
	if got := answers(l, 0, 100); got[Pass] != 100 {
		t.Errorf("log_only limited: %v", got)
	}
	if p, w := l.counts.total(countPass), l.counts.total(countWouldLimit); p != 20 || w != 80 {
		t.Errorf("log_only counted pass %d, would_limit %d; want 20, 80", p, w)
	}
	if d, s := l.counts.total(countDrop), l.counts.total(countSlip); d+s != 0 {
		t.Errorf("log_only counted %d drops, %d slips", d, s)
	}
}

func TestExempt(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Exempt = []string{
		"198.51.100.7/32",
		"2001:db8:ff::/48",
		"::ffff:203.0.113.0/120", // mapped: means 203.0.113.0/24
	}
	l := newLimiter(t, cfg)
	for _, a := range []string{"198.51.100.7", "2001:db8:ff:1::53", "203.0.113.9", "::ffff:198.51.100.7"} {
		c := netip.MustParseAddr(a)
		if got := send(l, c, ClassAnswer, www, dns.TypeA, 0, 1000); got[Pass] != 1000 {
			t.Errorf("exempt %s limited: %v", a, got)
		}
	}
	// Its neighbour in the same /24 is not exempt.
	if got := send(l, netip.MustParseAddr("198.51.100.8"), ClassAnswer, www, dns.TypeA, 0, 100); got[Pass] != 20 {
		t.Errorf("198.51.100.8 passed %d, want 20", got[Pass])
	}
}

func TestNetworkGrouping(t *testing.T) {
	for _, tc := range []struct {
		a, b   string
		shared bool
	}{
		{"192.0.2.1", "192.0.2.254", true},
		{"192.0.2.1", "192.0.3.1", false},
		{"192.0.2.1", "::ffff:192.0.2.99", true}, // a dual-stack socket's view of IPv4
		{"2001:db8:0:100::1", "2001:db8:0:1ff:ffff::1", true},
		{"2001:db8:0:100::1", "2001:db8:0:200::1", false},
		{"2001:db8::1", "1.2.3.4", false},
		{"::", "0.0.0.0", false},
	} {
		l := newLimiter(t, DefaultConfig())
		send(l, netip.MustParseAddr(tc.a), ClassAnswer, www, dns.TypeA, 0, 20)
		got := send(l, netip.MustParseAddr(tc.b), ClassAnswer, www, dns.TypeA, 0, 1)
		if shared := got[Pass] == 0; shared != tc.shared {
			t.Errorf("%s and %s share a bucket: %v, want %v", tc.a, tc.b, shared, tc.shared)
		}
	}
}

func TestPrefixConfigurable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IPv4Prefix, cfg.IPv6Prefix = 32, 128
	l := newLimiter(t, cfg)
	send(l, netip.MustParseAddr("192.0.2.1"), ClassAnswer, www, dns.TypeA, 0, 20)
	if got := send(l, netip.MustParseAddr("192.0.2.2"), ClassAnswer, www, dns.TypeA, 0, 1); got[Pass] != 1 {
		t.Error("/32: neighbours share a bucket")
	}
	cfg.IPv4Prefix = 16
	l = newLimiter(t, cfg)
	send(l, netip.MustParseAddr("192.0.2.1"), ClassAnswer, www, dns.TypeA, 0, 20)
	if got := send(l, netip.MustParseAddr("192.0.99.2"), ClassAnswer, www, dns.TypeA, 0, 1); got[Pass] != 0 {
		t.Error("/16: one network, two buckets")
	}
}

func TestClassKeys(t *testing.T) {
	type resp struct {
		class Class
		name  string
		qtype uint16
	}
	for _, tc := range []struct {
		what   string
		a, b   resp
		shared bool
	}{
		{"answers: same name and type", resp{ClassAnswer, "www.example.com.", dns.TypeA}, resp{ClassAnswer, "www.example.com.", dns.TypeA}, true},
		{"answers: letter case", resp{ClassAnswer, "www.example.com.", dns.TypeA}, resp{ClassAnswer, "wWw.ExAmple.COM.", dns.TypeA}, true},
		{"answers: other type", resp{ClassAnswer, "www.example.com.", dns.TypeA}, resp{ClassAnswer, "www.example.com.", dns.TypeAAAA}, false},
		{"answers: other name", resp{ClassAnswer, "www.example.com.", dns.TypeA}, resp{ClassAnswer, "ftp.example.com.", dns.TypeA}, false},
		{"answers: letter case, long name", resp{ClassAnswer, strings.Repeat("x.", 100), dns.TypeA}, resp{ClassAnswer, strings.Repeat("X.", 100), dns.TypeA}, true},
		{"answers: long names", resp{ClassAnswer, strings.Repeat("x.", 100), dns.TypeA}, resp{ClassAnswer, strings.Repeat("x.", 99) + "y.", dns.TypeA}, false},
		{"nodata: any type", resp{ClassNoData, "www.example.com.", dns.TypeMX}, resp{ClassNoData, "www.example.com.", dns.TypeTXT}, true},
		{"nodata is not an answer", resp{ClassAnswer, "www.example.com.", dns.TypeA}, resp{ClassNoData, "www.example.com.", dns.TypeA}, false},
		{"nxdomain: one zone", resp{ClassNXDomain, "example.com.", dns.TypeA}, resp{ClassNXDomain, "example.com.", dns.TypeAAAA}, true},
		{"nxdomain: other zone", resp{ClassNXDomain, "example.com.", dns.TypeA}, resp{ClassNXDomain, "example.net.", dns.TypeA}, false},
		{"referral: one delegation", resp{ClassReferral, "sub.example.com.", dns.TypeA}, resp{ClassReferral, "sub.example.com.", dns.TypeNS}, true},
		{"errors: whatever was asked", resp{ClassError, "a.example.", dns.TypeA}, resp{ClassError, "b.example.", dns.TypeTXT}, true},
		{"unknown class is an error", resp{ClassError, "a.example.", dns.TypeA}, resp{Class(200), "b.example.", dns.TypeTXT}, true},
	} {
		l := newLimiter(t, DefaultConfig())
		send(l, client, tc.a.class, []byte(tc.a.name), tc.a.qtype, 0, 20)
		got := send(l, client, tc.b.class, []byte(tc.b.name), tc.b.qtype, 0, 1)
		if shared := got[Pass] == 0; shared != tc.shared {
			t.Errorf("%s: shared %v, want %v", tc.what, shared, tc.shared)
		}
	}
}

func TestRandomSubdomainsShareTheZone(t *testing.T) {
	l := newLimiter(t, DefaultConfig())
	zone := []byte("example.com.")
	var got tally
	for i := range 1000 {
		// The query names are all different (x0.example.com, x1 …), but
		// an NXDOMAIN is keyed by the zone that said so, whatever the
		// name or type: the flood costs one bucket.
		got[l.Decide(client, ClassNXDomain, zone, uint16(i), 0)]++
	}
	if got[Pass] != 20 {
		t.Errorf("1000 NXDOMAINs for random names in one zone: %d passed, want 20", got[Pass])
	}
}

func TestRatesByClass(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ResponsesPerSecond, cfg.NXDomainsPerSecond, cfg.ErrorsPerSecond = 10, 5, 3
	l := newLimiter(t, cfg)
	for _, tc := range []struct {
		class Class
		want  int
	}{{ClassAnswer, 10}, {ClassNoData, 10}, {ClassReferral, 10}, {ClassNXDomain, 5}, {ClassError, 3}} {
		if got := send(l, client, tc.class, []byte(tc.class.String()), 1, 0, 100); got[Pass] != tc.want {
			t.Errorf("%v: %d passed, want %d", tc.class, got[Pass], tc.want)
		}
	}
}

// TestCharge is the arithmetic alone, in microseconds: rate 20/s (50,000
// µs a response), window 15 s, slip 2.
func TestCharge(t *testing.T) {
	r := newRules(DefaultConfig().withDefaults())
	const fresh = -creditCap
	for _, tc := range []struct {
		what      string
		d         int64
		n         uint64
		wantD     int64
		wantN     uint64
		wantActed Action
	}{
		{"new key", -1 << 62, 0, fresh + 50000, 0, Pass},
		{"full credit", fresh, 0, fresh + 50000, 0, Pass},
		{"idle for ages", -3600e6, 1, fresh + 50000, 0, Pass},
		{"last credit", -50000, 0, 0, 0, Pass},
		{"no credit: first limited slips", 0, 0, 50000, 1, Slip},
		{"second limited drops", 50000, 1, 100000, 0, Drop},
		{"debt stops at the window", 15e6, 0, 15e6, 1, Slip},
		{"debt near the window", 15e6 - 10, 1, 15e6, 0, Drop},
		{"clock skew past the window", 15e6 + 500, 0, 15e6, 1, Slip},
		{"stale word (from a wrapped clock)", 15e6 + 2e6, 1, fresh + 50000, 0, Pass},
	} {
		d, n, act := r.charge(tc.d, tc.n, ClassAnswer)
		if d != tc.wantD || n != tc.wantN || act != tc.wantActed {
			t.Errorf("%s: charge(%d, %d) = %d, %d, %v; want %d, %d, %v",
				tc.what, tc.d, tc.n, d, n, act, tc.wantD, tc.wantN, tc.wantActed)
		}
	}
}

func TestPackDebt(t *testing.T) {
	for _, now := range []uint64{0, 12345, clockMask - 5, clockMask, clockMask + 7} {
		for _, d := range []int64{-creditCap, -1, 0, 1, 15e6, 3600e6} {
			w := pack(tagMask, d, 9, now)
			if got := debt(w, now); got != d {
				t.Errorf("now %d: debt %d reads back as %d", now, d, got)
			}
			if w>>tagShift != tagMask || w>>clockBits&slipMask != 9 {
				t.Errorf("now %d, debt %d: tag or slip count lost: %#x", now, d, w)
			}
		}
	}
}
