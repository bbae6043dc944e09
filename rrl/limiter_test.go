package rrl

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// TestBoundedFlood: 10,000 identical responses to one /24 (from many of
// its addresses, as a forger would send them) within one second.
//
// A bucket holds at most one second's credit and a limited response is
// charged too (BIND's rules), so only the first rate's worth pass, and
// the rest of the second's credit goes on the debt; far fewer than
// rate × (1 + window), the most any token bucket of that depth could let
// through. Of the limited, one in slip is sent truncated.
func TestBoundedFlood(t *testing.T) {
	cfg := DefaultConfig()
	l := newLimiter(t, cfg)
	const n = 10000
	var got tally
	for i := range n {
		c := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		got[l.Decide(c, ClassAnswer, www, dns.TypeA, int64(i)*second/n)]++
	}
	rate := cfg.ResponsesPerSecond
	if got[Pass] < rate || got[Pass] > rate+1 {
		t.Errorf("%d passed, want %d (the burst)", got[Pass], rate)
	}
	if bound := rate * (1 + int(cfg.Window.Seconds())); got[Pass] > bound {
		t.Errorf("%d passed, more than rate × (1 + window) = %d", got[Pass], bound)
	}
	limited := n - got[Pass]
	if want := limited / cfg.Slip; got[Slip] < want-1 || got[Slip] > want+1 {
		t.Errorf("%d slipped of %d limited, want %d", got[Slip], limited, want)
	}
	// The flood goes on for another minute: nothing more passes, since
	// the client never slows below the rate to pay its debt.
	for i := range 60 * 100 {
		if l.Decide(client, ClassAnswer, www, dns.TypeA, second+int64(i)*10*ms) == Pass {
			got[Pass]++
		}
	}
	if got[Pass] > rate+1 {
		t.Errorf("a minute's flood at 100/s: %d passed in all, want %d", got[Pass], rate)
	}
}

func TestTableFull(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TableSize = 100 // rounds down to 12 groups of 8
	l := newLimiter(t, cfg)
	if n := len(l.table().slots); n > cfg.TableSize || n != 96 {
		t.Fatalf("table has %d slots for table_size %d", n, cfg.TableSize)
	}
	// A limited key, then a spray of 100,000 new keys, each answered
	// three times, as a random-subdomain or random-source flood would.
	answers(l, 0, 25)
	for i := range 100000 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(i)<<8)
		c := netip.AddrFrom4(b)
		send(l, c, ClassAnswer, www, dns.TypeA, ms, 3)
	}
	if n := len(l.table().slots); n != 96 {
		t.Errorf("table grew to %d slots", n)
	}
	if n := l.table().live(uint64(ms/1000), l.policy.Load().rules.window); n > 96 {
		t.Errorf("%d live entries in 96 slots", n)
	}
	// New keys evict the freshest buckets first: the key in debt stays,
	// still limited, however many keys the flood invented.
	if got := answers(l, 2*ms, 1); got[Pass] != 0 {
		t.Error("a spray of new keys freed a limited key")
	}
}

func TestTableSmallest(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TableSize = MinTableSize
	l := newLimiter(t, cfg)
	for i := range 1000 {
		send(l, client, ClassAnswer, www, uint16(i), int64(i)*ms, 2)
	}
}

// TestConcurrent hammers one key and many others from many goroutines at
// one instant: compare-and-swap must lose no update, so exactly the
// burst passes for the shared key, and every response is counted once.
func TestConcurrent(t *testing.T) {
	l := newLimiter(t, DefaultConfig())
	const workers, each = 32, 2000
	var wg sync.WaitGroup
	passed := make([]int, workers)
	for w := range workers {
		wg.Go(func() {
			other := netip.AddrFrom4([4]byte{10, byte(w), 0, 1})
			for i := range each {
				if l.Decide(client, ClassAnswer, www, dns.TypeA, 0) == Pass {
					passed[w]++
				}
				l.Decide(other, ClassNXDomain, []byte("example.com."), uint16(i), int64(i)*ms)
			}
		})
	}
	// Policy reloads meanwhile: the same policy, so the same table.
	stop := make(chan struct{})
	reloads := sync.WaitGroup{}
	reloads.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				if err := l.Reconfigure(DefaultConfig()); err != nil {
					t.Error(err)
				}
			}
		}
	})
	wg.Wait()
	close(stop)
	reloads.Wait()
	sum := 0
	for _, p := range passed {
		sum += p
	}
	if sum != 20 {
		t.Errorf("%d of %d concurrent responses for one key passed, want 20", sum, workers*each)
	}
	var total uint64
	for i := range numCounts {
		total += l.counts.total(i)
	}
	if total != 2*workers*each {
		t.Errorf("counted %d responses, want %d", total, 2*workers*each)
	}
}

func TestDecideAllocatesNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Exempt = []string{"198.51.100.0/24"}
	l := newLimiter(t, cfg)
	v6 := netip.MustParseAddr("2001:db8::1")
	exempt := netip.MustParseAddr("198.51.100.1")
	long := make([]byte, 300) // longer than one folding chunk
	now := int64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		now += ms
		l.Decide(client, ClassAnswer, www, dns.TypeA, now)
		l.Decide(v6, ClassNXDomain, long, dns.TypeAAAA, now)
		l.Decide(exempt, ClassError, nil, 0, now)
		l.Decide(netip.Addr{}, ClassReferral, www, 0, now)
		l.Now()
	})
	if allocs != 0 {
		t.Errorf("Decide allocates %v times a call", allocs)
	}
}

func TestClock(t *testing.T) {
	l := newLimiter(t, DefaultConfig())
	a := l.Now()
	b := l.At(l.epoch.Add(5 * 1e9))
	if a < 0 || b != 5*second {
		t.Errorf("Now = %d, At(epoch+5s) = %d", a, b)
	}
}

// table is the table in force, for tests.
func (l *Limiter) table() *table { return l.policy.Load().table }

func TestNilLimiterPasses(t *testing.T) {
	var l *Limiter
	if a := l.Decide(client, ClassAnswer, www, dns.TypeA, 0); a != Pass {
		t.Errorf("nil Limiter: %v", a)
	}
}

func TestReconfigure(t *testing.T) {
	l := newLimiter(t, DefaultConfig())
	answers(l, 0, 20)
	tbl := l.table()

	// A new rate, same table: the limited client stays limited.
	cfg := DefaultConfig()
	cfg.ResponsesPerSecond = 40
	if err := l.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if l.table() != tbl {
		t.Error("a new rate replaced the table")
	}
	if got := answers(l, 0, 1); got[Pass] != 0 {
		t.Error("reconfiguring forgave a limited client")
	}
	if got := send(l, client, ClassAnswer, []byte("new.example."), 1, 0, 100); got[Pass] != 40 {
		t.Errorf("new rate: %d passed, want 40", got[Pass])
	}

	// log_only on.
	cfg.LogOnly = true
	if err := l.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if got := answers(l, 0, 10); got[Pass] != 10 {
		t.Errorf("log_only after reload limited: %v", got)
	}

	// An invalid policy changes nothing.
	bad := cfg
	bad.Slip = -1
	if err := l.Reconfigure(bad); err == nil {
		t.Error("Reconfigure accepted slip -1")
	}
	if !l.policy.Load().logOnly {
		t.Error("an invalid policy changed the one in force")
	}

	// A new size: a new table.
	cfg.TableSize = 1024
	if err := l.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if n := len(l.table().slots); n != 1024 {
		t.Errorf("table_size 1024: %d slots", n)
	}
}
