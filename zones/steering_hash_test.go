package zones

import (
	"strings"
	"testing"
)

// ns1 and ns2 of a fleet differ in their listeners and instance name but
// steer alike: their steering hashes are equal while their file hashes
// differ, and a changed weight changes the steering hash.
func TestSteeringHashIgnoresWhereTheHostIs(t *testing.T) {
	host := func(addr, name string) string {
		return "[server]\ndns = [\"127.0.0.1:" + addr + "\"]\n[fleet]\nnats = [\"nats://127.0.0.1:4222\"]\ninstance = \"" + name + "\"\n"
	}
	parse := func(doc string) *Snapshot {
		t.Helper()
		s, err := Parse("p.toml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ns1 := parse(host("1053", "ns1") + base + zoneHead)
	ns2 := parse(host("2053", "ns2") + base + zoneHead)
	if ns1.HashHex() == ns2.HashHex() {
		t.Fatal("the two files have one hash: the case is not set up")
	}
	if ns1.SteeringHashHex() == "" || ns1.SteeringHashHex() != ns2.SteeringHashHex() {
		t.Errorf("steering hashes %q and %q, want equal and set", ns1.SteeringHashHex(), ns2.SteeringHashHex())
	}
	other := parse(host("1053", "ns1") + strings.Replace(base, "a = 1, b = 1", "a = 1, b = 2", 1) + zoneHead)
	if other.SteeringHashHex() == ns1.SteeringHashHex() {
		t.Error("a changed weight leaves the steering hash as it was")
	}
}
