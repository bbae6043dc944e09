package zones

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"
)

// Limits of RFC 1035 §2.3.4, in wire octets: a name's length counts each
// label's length byte and the root label's zero byte, so a 255-character
// name written with its trailing dot is 256 octets and does not fit.
const (
	maxNameWire = 255
	maxLabel    = 63
)

// nameError says why a name was refused. An empty reason means the name
// is malformed (an empty label, a dangling escape) and says so itself.
type nameError struct{ reason string }

func (e *nameError) Error() string { return e.reason }

var errMalformed = &nameError{}

// unservable are the bytes that the DNS library escapes when it spells a
// name: a query for a name holding one arrives spelled differently from
// the policy (and the fast path never matches it), and in a policy each
// is far likelier a slip — a comment, a quote, an e-mail address — than
// meant. Control bytes, whitespace and non-ASCII are refused besides.
const unservable = `;()"@'\`

// canonicalName checks a domain name in presentation form (escapes such as
// \065 allowed) and returns it fully qualified, in lower case and spelled
// as the query path spells names: without escapes, for every byte that
// would need one is refused. Names are compared, looked up and packed in
// that one spelling, so that a value written "NS.sub2" finds its glue.
func canonicalName(name string) (string, error) {
	return canonical(name, false)
}

// canonicalMailbox is canonicalName for an SOA RNAME, whose first label is
// the local part of an address and may hold escaped dots.
func canonicalMailbox(name string) (string, error) {
	return canonical(name, true)
}

func canonical(name string, localPart bool) (string, error) {
	labels, ok := splitLabels(name)
	if !ok {
		return "", errMalformed
	}
	for _, l := range labels {
		for _, b := range l {
			if b >= 0x80 {
				return "", &nameError{"non-ASCII, write it as punycode" + punycodeHint(labels)}
			}
		}
	}
	wire := 1
	for i, l := range labels {
		for _, b := range l {
			switch {
			case b == ' ' || b == '\t' || b == '\n' || b == '\r':
				return "", &nameError{"whitespace cannot be in a name"}
			case b < 0x20 || b == 0x7f:
				return "", &nameError{fmt.Sprintf("control byte 0x%02x cannot be in a name", b)}
			case strings.IndexByte(unservable, b) >= 0:
				return "", &nameError{fmt.Sprintf("%q cannot be in a name", string(b))}
			case b == '.' && !(localPart && i == 0):
				return "", &nameError{"an escaped dot cannot be in a name"}
			}
		}
		if len(l) > maxLabel {
			return "", &nameError{fmt.Sprintf("label %q is %d octets (at most %d)", l, len(l), maxLabel)}
		}
		wire += 1 + len(l)
	}
	if wire > maxNameWire {
		return "", &nameError{fmt.Sprintf("%d octets on the wire (at most %d)", wire, maxNameWire)}
	}
	var b strings.Builder
	for _, l := range labels {
		for _, c := range l {
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c == '.':
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('.')
	}
	if len(labels) == 0 {
		return ".", nil
	}
	return b.String(), nil
}

// splitLabels decodes a presentation-form name into its labels' octets.
// The root is "." and has none; a missing trailing dot is implied.
func splitLabels(name string) ([][]byte, bool) {
	if name == "" {
		return nil, false
	}
	if name == "." {
		return nil, true
	}
	var labels [][]byte
	var cur []byte
	started := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch c {
		case '\\':
			if i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]) {
				v := int(name[i+1]-'0')*100 + int(name[i+2]-'0')*10 + int(name[i+3]-'0')
				if v > 255 {
					return nil, false
				}
				c = byte(v)
				i += 3
			} else if i+1 < len(name) {
				i++
				c = name[i]
			} else {
				return nil, false
			}
			cur, started = append(cur, c), true
		case '.':
			if !started {
				return nil, false
			}
			labels, cur, started = append(labels, cur), nil, false
		default:
			cur, started = append(cur, c), true
		}
	}
	if started {
		labels = append(labels, cur)
	}
	return labels, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// punycodeHint spells a non-ASCII name as the ASCII name the operator
// most likely meant, for the error message.
func punycodeHint(labels [][]byte) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = strings.ToLower(string(l))
	}
	a, err := idna.ToASCII(strings.Join(parts, ".") + ".")
	if err != nil {
		return " (xn--...)"
	}
	return fmt.Sprintf(" %q", a)
}

// badName reports a name that canonicalName refused; what says where it
// stood, as in "zone: origin".
func (c *compiler) badName(path, what, name string, err error) {
	c.el.Add(path, "%s %q is not a valid domain name%s", what, name, because(err))
}

// because is ": reason" for a refused name, or "" when the name is
// simply malformed.
func because(err error) string {
	if e, ok := err.(*nameError); ok && e.reason != "" {
		return ": " + e.reason
	}
	return ""
}

// rdataName points at the domain name in a record's data, for the types a
// zone may hold that carry one, or is nil.
func rdataName(rr dns.RR) *string {
	switch rr := rr.(type) {
	case *dns.NS:
		return &rr.Ns
	case *dns.CNAME:
		return &rr.Target
	case *dns.MX:
		return &rr.Mx
	case *dns.SRV:
		return &rr.Target
	}
	return nil
}

// checkTargets refuses CDN targets that lead back into the zones served
// here: a steered name (each answer would CNAME into steering again, a
// loop when the policy can pick that CDN) or a name the zone does not
// hold, which resolvers would chase to NXDOMAIN for every viewer.
func (c *compiler) checkTargets(s *Snapshot) {
	for _, cdn := range s.CDNs {
		at := "cdn." + cdn.Name + ".target"
		if cdn.Target == "" {
			continue
		}
		if _, ok := s.steered[cdn.Target]; ok {
			c.el.Add(at, "cdn %q: target %s is a steered name here (a CNAME loop)", cdn.Name, cdn.Target)
			continue
		}
		z := s.FindZone(cdn.Target)
		if z == nil {
			continue
		}
		if n, cut := z.Find(cdn.Target); cut == nil && (n == nil || len(n.Sets) == 0) {
			c.el.Add(at, "cdn %q: target %s is inside zone %s but has no records there", cdn.Name, cdn.Target, z.Origin)
		}
	}
}
