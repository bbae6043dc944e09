package rrl_test

import (
	"fmt"
	"net/netip"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/rrl"
)

// A UDP handler's last step: account the packed response, then send it,
// its slip form, or nothing.
func Example() {
	l, err := rrl.New(rrl.DefaultConfig(), prometheus.NewRegistry())
	if err != nil {
		panic(err)
	}
	client := netip.MustParseAddr("192.0.2.1")
	zone := []byte("example.com.")

	q := new(dns.Msg)
	q.SetQuestion("nx-4711.example.com.", dns.TypeA)
	m := new(dns.Msg)
	m.SetRcode(q, dns.RcodeNameError)
	now := l.Now()
	for range 22 {
		out, _ := m.Pack()
		switch l.Decide(client, rrl.ClassNXDomain, zone, dns.TypeA, now) {
		case rrl.Pass:
			// send out
		case rrl.Slip:
			out = rrl.Truncate(out)
			fmt.Println("slip:", len(out), "bytes")
		case rrl.Drop:
			fmt.Println("drop")
		}
	}
	// Output:
	// slip: 37 bytes
	// drop
}
