//go:build linux && (amd64 || arm64)

package dnsserver

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestUDPRepliesAreNotFragmented checks the sockets' path MTU mode: DF
// set, never fragmented locally, forged "fragmentation needed" ignored.
func TestUDPRepliesAreNotFragmented(t *testing.T) {
	for _, c := range []struct {
		addr          string
		level, option int
	}{
		{"127.0.0.1:0", unix.IPPROTO_IP, unix.IP_MTU_DISCOVER},
		{"[::1]:0", unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER},
	} {
		s, err := openUDP(netip.MustParseAddrPort(c.addr))
		if err != nil {
			t.Fatal(err)
		}
		b := s.(*batchSocket)
		var mode int
		cerr := b.rc.Control(func(fd uintptr) { mode, err = unix.GetsockoptInt(int(fd), c.level, c.option) })
		b.close()
		if cerr != nil {
			t.Fatal(cerr)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.addr, err)
		}
		if mode != unix.IP_PMTUDISC_PROBE {
			t.Errorf("%s: MTU discovery mode %d, want %d (probe: DF, path MTU ignored)", c.addr, mode, unix.IP_PMTUDISC_PROBE)
		}
	}
}
