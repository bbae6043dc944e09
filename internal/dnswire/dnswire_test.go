package dnswire

import "testing"

func TestSkipName(t *testing.T) {
	for _, c := range []struct {
		msg  string
		off  int
		next int
		ok   bool
	}{
		{"\x00", 0, 1, true},
		{"\x01a\x03bcd\x00xx", 0, 7, true},
		{"\x01a\xc0\x0cxx", 0, 4, true},
		{"xx\x01a\x00", 2, 5, true},
		{"\x01a", 0, 0, false},      // runs past the message
		{"\x05ab\x00", 0, 0, false}, // a label longer than what is left
		{"\x41a\x00", 0, 0, false},  // reserved label type
		{"", 0, 0, false},
	} {
		next, ok := SkipName([]byte(c.msg), c.off)
		if next != c.next || ok != c.ok {
			t.Errorf("SkipName(%q, %d) = %d, %v; want %d, %v", c.msg, c.off, next, ok, c.next, c.ok)
		}
	}
}
