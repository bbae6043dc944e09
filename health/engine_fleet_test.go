package health

import (
	"slices"
	"testing"
	"time"
)

// TestApplyOverrideOrderIsTheFleets: two pins of one region written on
// two instances cut off from each other arrive in opposite orders; each
// engine puts the older in force, so both answer alike. Applying one
// again changes nothing, and a peer's end removes it.
func TestApplyOverrideOrderIsTheFleets(t *testing.T) {
	at := time.Date(2026, 6, 11, 20, 0, 0, 0, time.UTC)
	older := Override{ID: "a1", Action: ActionPin, CDN: "edgio", Region: "kr", Reason: "ns1", Created: at, Expires: at.Add(time.Hour), Origin: "ns1"}
	newer := Override{ID: "b2", Action: ActionPin, CDN: "fastly", Region: "kr", Reason: "ns2", Created: at.Add(time.Second), Expires: at.Add(time.Hour), Origin: "ns2"}
	one, two := NewEngine(testConfig(), nil), NewEngine(testConfig(), nil)
	now := at.Add(2 * time.Second)
	for _, o := range []Override{older, newer} {
		if added, err := one.ApplyOverride(o, now); !added || err != nil {
			t.Fatalf("apply %s: %v %v", o.ID, added, err)
		}
	}
	for _, o := range []Override{newer, older} {
		if added, err := two.ApplyOverride(o, now); !added || err != nil {
			t.Fatalf("apply %s: %v %v", o.ID, added, err)
		}
	}
	if added, _ := two.ApplyOverride(older, now); added {
		t.Fatal("an override already in force was applied again")
	}
	w1, w2 := one.Evaluate(now).Get(0, 1).W, two.Evaluate(now).Get(0, 1).W
	if !slices.Equal(w1, w2) || w1[2] == 0 || w1[3] != 0 {
		t.Fatalf("kr weights %v and %v: want both pinned to edgio, the older pin", w1, w2)
	}
	if got := one.Overrides(now); len(got) != 2 || got[0].ID != "a1" || got[1].Origin != "ns2" {
		t.Fatalf("overrides %+v", got)
	}
	if !one.EndAppliedOverride("a1", now, "ended on ns1") || one.EndAppliedOverride("a1", now, "again") {
		t.Fatal("a peer's end must end the override once")
	}
	if w := one.Evaluate(now).Get(0, 1).W; w[3] == 0 || w[2] != 0 {
		t.Fatalf("kr weights %v after the older pin ended: want fastly", w)
	}
	if _, err := one.ApplyOverride(Override{ID: "c3", Action: ActionDrain, CDN: "nope", Reason: "x", Created: at, Expires: at.Add(time.Hour)}, now); err == nil {
		t.Fatal("an override naming a CDN this policy lacks was applied")
	}
}
