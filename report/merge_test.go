package report

import (
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

func TestMergeKeepsReplicatedChangesOnce(t *testing.T) {
	t0 := time.Date(2026, 6, 11, 20, 0, 0, 0, time.UTC)
	o := &health.Override{ID: "a1", Action: "drain", CDN: "akamai", Region: "kr"}
	remote := *o
	remote.Origin = "ns1"
	note := &health.Annotation{ID: "n1", Time: t0, Text: "kick-off"}
	ns1 := []health.Decision{
		{Time: t0, Kind: health.DecisionAnnotation, Annotation: note},
		{Time: t0.Add(time.Second), Kind: health.DecisionOverride, Override: o},
		{Time: t0.Add(2 * time.Second), Kind: health.DecisionState, Policy: "live", Region: "kr", CDN: "fastly", From: "healthy", To: "degraded"},
		{Time: t0.Add(time.Minute), Kind: health.DecisionCheckpoint},
	}
	ns2 := []health.Decision{
		{Time: t0.Add(10 * time.Millisecond), Kind: health.DecisionAnnotation, Annotation: note},
		{Time: t0.Add(time.Second + 5*time.Millisecond), Kind: health.DecisionOverride, Override: &remote},
		{Time: t0.Add(3 * time.Second), Kind: health.DecisionState, Policy: "live", Region: "kr", CDN: "fastly", From: "healthy", To: "degraded"},
		{Time: t0.Add(30 * time.Second), Kind: health.DecisionOverrideEnd, Override: &remote},
		{Time: t0.Add(61 * time.Second), Kind: health.DecisionCheckpoint},
	}
	got := Merge(ns1, ns2)
	var kinds []string
	for _, d := range got {
		kinds = append(kinds, d.Kind)
	}
	want := []string{"annotation", "override", "state", "override_end", "checkpoint", "checkpoint"}
	if len(kinds) != len(want) {
		t.Fatalf("merged kinds %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("merged kinds %v, want %v", kinds, want)
		}
	}
	if got[1].Override.Origin != "" {
		t.Fatal("the override's line must come from the log that had it first")
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.Before(got[i-1].Time) {
			t.Fatal("merged timeline is not in time order")
		}
	}
}

func TestMergeKeepsTheSameChangeMinutesApart(t *testing.T) {
	t0 := time.Date(2026, 6, 11, 20, 0, 0, 0, time.UTC)
	d := health.Decision{Time: t0, Kind: health.DecisionState, Policy: "live", Region: "kr", CDN: "fastly", From: "healthy", To: "degraded"}
	later := d
	later.Time = t0.Add(10 * time.Minute)
	if got := Merge([]health.Decision{d}, []health.Decision{later}); len(got) != 2 {
		t.Fatalf("two degradations ten minutes apart merged into %d", len(got))
	}
}
