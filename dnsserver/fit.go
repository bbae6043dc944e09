package dnsserver

import (
	"strings"

	"github.com/miekg/dns"
)

// fit cuts resp down to limit bytes. TC tells the client that data it
// needs did not fit and sends it to TCP, so it is set only when that is so
// (RFC 2181 §9): when the answer or authority section loses records, or a
// referral loses the addresses of name servers below its cut (cut, the
// delegated name; "" for any other answer), without which the referral
// cannot be followed (RFC 9471 §3). Other additional records, such as the
// name servers' addresses after an NS answer, are optional: they are left
// out a whole RRset at a time, last first, without TC. The OPT stays.
func fit(resp *dns.Msg, limit int, cut string) {
	// Most replies fit even uncompressed, which is cheaper to measure.
	resp.Compress = false
	fits := resp.Len() <= limit
	resp.Compress = true
	if fits || resp.Len() <= limit {
		return
	}
	extra := resp.Extra
	var opt []dns.RR
	if n := len(extra); n > 0 && extra[n-1].Header().Rrtype == dns.TypeOPT {
		extra, opt = extra[:n-1], extra[n-1:]
	}
	for len(extra) > 0 {
		last := extra[len(extra)-1].Header()
		i := len(extra) - 1
		for i > 0 && sameRRset(extra[i-1].Header(), last) {
			i--
		}
		if cut != "" && dns.IsSubDomain(cut, last.Name) {
			resp.Truncated = true
		}
		extra = extra[:i:i] // appending the OPT must not overwrite what was cut
		resp.Extra = append(extra, opt...)
		if resp.Len() <= limit {
			return
		}
	}
	// The answer or authority does not fit: the library cuts them, with TC.
	resp.Truncate(limit)
	resp.Compress = true
}

func sameRRset(a, b *dns.RR_Header) bool {
	return a.Rrtype == b.Rrtype && a.Class == b.Class && strings.EqualFold(a.Name, b.Name)
}
