package health

import (
	"math"
	"testing"
	"time"
)

func TestCapacityHistoryHeld(t *testing.T) {
	t0 := time.Date(2026, 6, 14, 11, 0, 0, 0, time.UTC)
	ttl := 20 * time.Second
	h := &capacityHistory{initial: 1}
	if got := h.held(t0, ttl); got != 1 {
		t.Errorf("no history: held %v, want 1", got)
	}
	h.record(t0, 0.5, time.Minute)
	h.record(t0.Add(10*time.Second), 0, time.Minute)
	for _, c := range []struct {
		after time.Duration
		want  float64
	}{
		{0, 1},                   // answers given before t0 only
		{10 * time.Second, 0.75}, // half at 1, half at 0.5
		{20 * time.Second, 0.25}, // 10 s at 0.5, 10 s at 0
		{30 * time.Second, 0},    // all given at 0
		{5 * time.Second, 0.875}, // 15 s at 1, 5 s at 0.5
		{15 * time.Second, 0.5},  // 5 s at 1, 10 s at 0.5, 5 s at 0
	} {
		if got := h.held(t0.Add(c.after), ttl); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("held at t0+%s = %v, want %v", c.after, got, c.want)
		}
	}
	// The load measured at t0 came with factor 1 held; at t0+20s
	// resolvers hold a quarter of it.
	if got := h.presentUtilisation(0.9, t0, t0.Add(20*time.Second), ttl); math.Abs(got-0.9*0.25) > 1e-9 {
		t.Errorf("present utilisation %v, want %v", got, 0.9*0.25)
	}
	if got := h.presentUtilisation(0.9, t0.Add(30*time.Second), t0.Add(31*time.Second), ttl); got != 0.9 {
		t.Errorf("measured while nothing was held: %v, want the measurement", got)
	}
}

func TestCapacityHistoryForgetsOnlyWhatNoEstimateNeeds(t *testing.T) {
	t0 := time.Date(2026, 6, 14, 11, 0, 0, 0, time.UTC)
	h := &capacityHistory{initial: 1}
	for i := range 100 {
		h.record(t0.Add(time.Duration(i)*time.Second), float64(i%2), 10*time.Second)
	}
	now := t0.Add(99 * time.Second)
	if n := len(h.t); n > 12 {
		t.Errorf("%d entries kept for a 10 s window at one per second", n)
	}
	// The factor in force 10 s ago must still be known, and what was
	// given before the window too (a reload may lengthen the TTL).
	if got, want := h.givenBefore(now.Add(-10*time.Second)), float64(88%2); got != want {
		t.Errorf("factor given before 10 s back = %v, want %v", got, want)
	}
	if got, want := h.givenBefore(t0), float64(h.initial); got != want || h.initial != float64((99-len(h.t))%2) {
		t.Errorf("factor before the history = %v (initial %v), want the last one forgotten", got, h.initial)
	}
	// Recording twice at one time keeps the later value; a factor given
	// at t is not yet held at t.
	h.record(now, 0.3, 10*time.Second)
	if got := h.givenBefore(now.Add(time.Nanosecond)); got != 0.3 {
		t.Errorf("factor after now = %v, want 0.3", got)
	}
	if got := h.held(now, 0); got != 0 {
		t.Errorf("held at now with TTL 0 = %v, want the factor given before now (0)", got)
	}
}

func TestPresentUtilisationLimits(t *testing.T) {
	t0 := time.Date(2026, 6, 14, 11, 0, 0, 0, time.UTC)
	h := &capacityHistory{initial: 1}
	h.record(t0, 0.05, time.Minute)
	h.record(t0.Add(10*time.Second), 1, time.Minute)
	// Measured while the CDN held a twentieth of its factor: the load was
	// stragglers, not a share to scale up twentyfold.
	if got := h.presentUtilisation(0.03, t0.Add(5*time.Second), t0.Add(20*time.Second), 0); got != 0.03 {
		t.Errorf("extrapolated from a factor of 0.05: %v, want the measurement 0.03", got)
	}
	// A measurement from the future counts as taken now: no change.
	if got := h.presentUtilisation(0.5, t0.Add(time.Hour), t0.Add(20*time.Second), 0); got != 0.5 {
		t.Errorf("future measurement: %v, want 0.5", got)
	}
}
