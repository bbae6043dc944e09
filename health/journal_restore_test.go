package health

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// synthLog is a decision log of minutes minutes in the old form (a full
// checkpoint every minute) with what a restore reads and what it does
// not: weights lines, fastly's state in kr changing every minute, a drain
// set every 10 minutes for 30 (half of them ended after 5), an escalation
// opened every 20 minutes and closed 10 later (and one open at the end),
// a schedule's window and an annotation. It ends with a line cut short, as a crash leaves it.
func synthLog(t *testing.T, minutes int) []byte {
	t.Helper()
	var buf bytes.Buffer
	write := func(d Decision) {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(b, '\n'))
	}
	cfg := deltaConfig()
	score := func(v float64) *float64 { return &v }
	for m := range minutes {
		at := t0.Add(time.Duration(m) * time.Minute)
		var states []CDNCheckpoint
		for _, p := range cfg.Policies {
			for _, r := range cfg.Regions {
				for _, c := range cfg.CDNs {
					states = append(states, CDNCheckpoint{Policy: p.Name, Region: r, CDN: c.Name, Score: float64(90 + m%10), Status: Healthy, Ramp: 1, Weight: 25})
				}
			}
		}
		write(Decision{Time: at, Kind: DecisionCheckpoint, States: states})
		for i := range 30 {
			write(Decision{Time: at.Add(time.Duration(i) * time.Second), Kind: DecisionWeights, Policy: "live", Region: "kr",
				Weights: map[string]float64{"akamai": float64(30 + i%3), "fastly": float64(20 - i%3)}, Reason: "scores moved"})
		}
		to := []Status{Degraded, Recovering, Healthy}[m%3]
		write(Decision{Time: at.Add(30 * time.Second), Kind: DecisionState, Policy: "live", Region: "kr", CDN: "fastly", To: string(to), Score: score(float64(40 + m))})
		if m%10 == 0 {
			o := Override{ID: fmt.Sprintf("o%d", m), Action: ActionDrain, CDN: "edgio", Reason: "maintenance", Created: at, Expires: at.Add(30 * time.Minute)}
			write(Decision{Time: at, Kind: DecisionOverride, Override: &o})
		}
		if m%20 == 5 {
			o := Override{ID: fmt.Sprintf("o%d", m-5), Action: ActionDrain, CDN: "edgio", Reason: "maintenance", Created: at.Add(-5 * time.Minute), Expires: at.Add(25 * time.Minute)}
			write(Decision{Time: at, Kind: DecisionOverrideEnd, Override: &o})
		}
		if m%20 == 0 {
			write(Decision{Time: at, Kind: DecisionEscalation, Escalation: &Escalation{ID: fmt.Sprintf("e%d", m), CDN: "fastly", Region: "kr"}})
		}
		if m%20 == 10 {
			write(Decision{Time: at, Kind: DecisionEscalationEnd, Escalation: &Escalation{ID: fmt.Sprintf("e%d", m-10), CDN: "fastly", Region: "kr"}})
		}
		if m == minutes-1 {
			write(Decision{Time: at, Kind: DecisionEscalation, Escalation: &Escalation{ID: fmt.Sprintf("e%d", m), CDN: "cloudfront", Region: "kr"}})
		}
		if m == 1 {
			write(Decision{Time: at, Kind: DecisionSchedule, Schedule: &ScheduleRef{Name: "match", Start: at, End: at.Add(time.Hour)}})
			write(Decision{Time: at, Kind: DecisionAnnotation, Annotation: &Annotation{ID: "a1", Time: at, Text: "kick-off"}})
		}
		write(Decision{Time: at.Add(40 * time.Second), Kind: DecisionStale, Policy: "vod", Region: "kr"})
	}
	buf.WriteString(`{"time":"2026-06-14T19:00:00Z","kind":"weights","policy":"live","reg`)
	return buf.Bytes()
}

// Read a line at a time for a warm restart, a log keeps what its state
// needs, however long it is, and the restore is the whole log's: the
// same CDN states, overrides and annotations; the feed gets the last
// lines but checkpoints, the escalation manager those open and the last
// closed.
func TestRestoreLogKeepsTheStateNotTheLog(t *testing.T) {
	const feed = 50
	kept := map[int]int{}
	for _, minutes := range []int{60, 240} {
		raw := synthLog(t, minutes)
		end := t0.Add(time.Duration(minutes) * time.Minute)
		rl, err := readRestoreLog(bytes.NewReader(raw), feed, end)
		if err != nil {
			t.Fatal(err)
		}
		whole, skipped, _ := decodeJournal(bytes.NewReader(raw))
		if rl.Lines != len(whole)+1 || rl.Skipped != 1 || skipped != 1 {
			t.Fatalf("%d min: %d lines, %d skipped; want %d and the cut one", minutes, rl.Lines, rl.Skipped, len(whole)+1)
		}
		kept[minutes] = len(rl.Decisions)
		states := 0
		for _, d := range rl.Decisions {
			states += len(d.States)
		}
		if states != 16 {
			t.Errorf("%d min: %d checkpointed states kept, want the 16 of the last checkpoint", minutes, states)
		}

		want, got := NewEngine(deltaConfig(), nil), NewEngine(deltaConfig(), nil)
		wantNotes, gotNotes := want.Restore(whole, end), got.RestoreLog(rl, end)
		if s, w := snapshot(got), snapshot(want); s != w {
			t.Errorf("%d min: restored\n%s\nwant\n%s", minutes, s, w)
		}
		if g, w := fmt.Sprint(got.Overrides(end)), fmt.Sprint(want.Overrides(end)); g != w || len(want.Overrides(end)) == 0 {
			t.Errorf("%d min: overrides %s, want %s", minutes, g, w)
		}
		if fmt.Sprint(gotNotes) != fmt.Sprint(wantNotes) || len(wantNotes) != 1 {
			t.Errorf("%d min: notes %v, want %v", minutes, gotNotes, wantNotes)
		}

		var recent []Decision
		for _, d := range whole {
			if d.Kind != DecisionCheckpoint && d.Kind != DecisionRestore {
				recent = append(recent, d)
			}
		}
		recent = recent[len(recent)-feed:]
		if g, w := jsonOf(t, rl.Recent), jsonOf(t, recent); g != w {
			t.Errorf("%d min: feed\n%s\nwant\n%s", minutes, g, w)
		}

		var open, closed, ends []string
		for _, d := range rl.Decisions {
			switch d.Kind {
			case DecisionEscalation:
				open = append(open, d.Escalation.ID)
			case DecisionEscalationEnd:
				closed = append(closed, d.Escalation.ID)
			case DecisionOverrideEnd:
				ends = append(ends, d.Override.ID)
			}
		}
		wantOpen := fmt.Sprintf("e%d", minutes-1)
		if len(open) != 1 || open[0] != wantOpen || len(closed) != minutes/20 || closed[len(closed)-1] != fmt.Sprintf("e%d", minutes-20) {
			t.Errorf("%d min: escalations open %v (want %s), closed %v", minutes, open, wantOpen, closed)
		}
		// Ended within their 30 minutes: the fleet's tombstones.
		if len(ends) != 1 {
			t.Errorf("%d min: override ends kept %v, want the one not expired", minutes, ends)
		}
	}
	// The escalations closed grow (up to the manager's hundred); the rest
	// does not.
	if kept[240]-kept[60] != (240-60)/20 {
		t.Errorf("decisions kept: %d of a 60-minute log, %d of a 240-minute one; want the 9 escalations closed since more, no more", kept[60], kept[240])
	}
}

func jsonOf(t *testing.T, ds []Decision) string {
	t.Helper()
	b, err := json.Marshal(ds)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
