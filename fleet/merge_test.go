package fleet

import (
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

var t0 = time.Date(2026, 6, 11, 20, 0, 0, 0, time.UTC)

func live(id, instance string, created time.Time) *Record {
	return overrideRecord(health.Override{ID: id, Action: "drain", CDN: "akamai", Region: "kr", Reason: "x",
		Created: created, Expires: created.Add(10 * time.Minute), Origin: instance}, instance)
}

func ended(id, instance string, created, at time.Time) *Record {
	o := *live(id, instance, created).Override
	return tombstone(o, instance, at, "done")
}

func TestWinsLastWriterThenInstance(t *testing.T) {
	a := ended("x", "ns1", t0, t0.Add(time.Minute))
	b := ended("x", "ns2", t0, t0.Add(2*time.Minute))
	if !Wins(b, a) || Wins(a, b) {
		t.Fatal("the later end must win")
	}
	c := ended("x", "ns2", t0, t0.Add(time.Minute))
	if !Wins(c, a) || Wins(a, c) {
		t.Fatal("at the same time the greater instance name must win, whichever is asked first")
	}
	if Wins(a, a) {
		t.Fatal("a record does not win over itself")
	}
}

func TestEndWinsOverLiveCopy(t *testing.T) {
	l := live("x", "ns1", t0)
	e := ended("x", "ns2", t0, t0.Add(time.Second))
	if !Wins(e, l) || Wins(l, e) {
		t.Fatal("an end must win over the live copy")
	}
	// A copy put again after a restart keeps the creation time, and even
	// a clock behind the ender's cannot bring the override back.
	skewed := ended("x", "ns2", t0, t0.Add(-time.Hour))
	if !Wins(skewed, l) {
		t.Fatal("an end must win over a live copy even from a clock behind")
	}
}

func TestDecide(t *testing.T) {
	l := live("x", "ns1", t0)
	e := ended("x", "ns2", t0, t0.Add(time.Second))
	cases := []struct {
		name          string
		local, remote *Record
		want          outcome
	}{
		{"unknown here: take it", nil, l, take},
		{"the same write: nothing", l, live("x", "ns1", t0), keep},
		{"ended elsewhere: take the end", l, e, take},
		{"ended here, bucket still live: put the end again", e, l, reassert},
	}
	for _, c := range cases {
		if got := decide(c.local, c.remote); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestExpiryJudgedLocally(t *testing.T) {
	l := live("x", "ns1", t0)
	if !l.InForce(t0.Add(time.Minute)) || l.InForce(t0.Add(10*time.Minute)) {
		t.Fatal("a live record is in force until its expiry, and not at it")
	}
	e := ended("x", "ns1", t0, t0.Add(time.Minute))
	if e.InForce(t0.Add(2 * time.Minute)) {
		t.Fatal("an ended record is never in force")
	}
	if !e.Matters(t0.Add(5*time.Minute)) || e.Matters(t0.Add(11*time.Minute)) {
		t.Fatal("a tombstone matters until the override would have expired")
	}
}

func TestDigestIgnoresOrderAndOrigin(t *testing.T) {
	a, b := *live("a", "ns1", t0).Override, *live("b", "ns2", t0.Add(time.Second)).Override
	d1 := Digest([]health.Override{a, b}, t0.Add(time.Minute))
	b2 := b
	b2.Origin, b2.Reason = "", "said otherwise"
	d2 := Digest([]health.Override{b2, a}, t0.Add(time.Minute))
	if d1 != d2 {
		t.Fatalf("digest depends on order or origin: %s vs %s", d1, d2)
	}
	if d := Digest([]health.Override{a}, t0.Add(time.Minute)); d == d1 {
		t.Fatal("digest does not change with the set")
	}
	// Expired overrides are not in the set, whether or not yet removed.
	if Digest([]health.Override{a, b}, t0.Add(time.Hour)) != Digest(nil, t0) {
		t.Fatal("expired overrides count in the digest")
	}
}
