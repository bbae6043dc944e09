package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	event "github.com/cdnsteer/cdnsteer/report"
	"github.com/cdnsteer/cdnsteer/sim"
	"github.com/cdnsteer/cdnsteer/zones"
)

// buildEvent reads what the flags name into an Event: nil and an exit
// code when nothing usable can be built.
func buildEvent(f *reportFlags, stderr io.Writer) (*event.Event, int) {
	ev := &event.Event{}
	var snap *zones.Snapshot
	var commits map[event.Place]float64
	var sc *sim.Scenario
	if f.config != "" {
		var code int
		if snap, code = loadPolicy("report", f.config, stderr); snap == nil {
			return nil, code
		}
		commits = event.CommitsOf(snap)
	}
	if f.scenario != "" {
		var err error
		if sc, err = sim.LoadScenario(f.scenario, snap); err != nil {
			fmt.Fprintln(stderr, err)
			return nil, 1
		}
		commits = sc.Commits()
	}
	ev.Meter = sim.NewMeasuredBilling(sc)

	var rehearsal *event.Traffic
	var rlog []health.Decision
	rskipped := 0
	if f.rehearsal != "" {
		var err error
		if rehearsal, err = event.ReadRehearsal(f.rehearsal); err != nil {
			fmt.Fprintf(stderr, "cdnsteer report: %v\n", err)
			return nil, 1
		}
		if rlog, rskipped, err = health.ReadJournal(filepath.Join(f.rehearsal, event.RehearsalDecisions)); err != nil {
			fmt.Fprintf(stderr, "cdnsteer report: %v\n", err)
			return nil, 1
		}
	}
	if len(f.logs) == 0 {
		// The rehearsal's own page: its traffic and its decision log.
		ev.Decisions, ev.Skipped, ev.Source = rlog, rskipped, filepath.Join(f.rehearsal, event.RehearsalDecisions)
		ev.Traffic, ev.Title = rehearsal, "Rehearsal report"
		return ev, 0
	}
	ds, skipped, notes, ok := readLogs(f.logs, stderr)
	if !ok {
		return nil, 1
	}
	ev.Decisions, ev.Skipped, ev.Source, ev.LogNotes = ds, skipped, strings.Join(f.logs, ", "), notes
	if f.promURL == "" {
		if len(ds) == 0 {
			fmt.Fprintf(stderr, "cdnsteer report: %s holds no decisions\n", strings.Join(f.logs, ", "))
			return nil, 1
		}
		return ev, 0
	}
	q, code := promQuery(f, snap, ds, stderr)
	if code != 0 {
		return nil, code
	}
	ev.Traffic = event.FetchTraffic(context.Background(), q, commits)
	if rehearsal != nil {
		ev.Forecast, ev.ForecastLog = rehearsal, rlog
	}
	if len(ds) == 0 && len(ev.Traffic.Delivered) == 0 && len(ev.Traffic.Answers) == 0 && len(ev.Traffic.QoE) == 0 {
		fmt.Fprintf(stderr, "cdnsteer report: nothing usable: %s holds no decisions, and Prometheus gave no series:\n", ev.Source)
		for _, why := range ev.Traffic.Missing[event.SecTraffic] {
			fmt.Fprintf(stderr, "  %s\n", why)
		}
		return nil, 1
	}
	return ev, 0
}

// promQuery is the range the flags ask for: -from and -to, else the log's
// span; the delivered query from -delivered, else the policy's.
func promQuery(f *reportFlags, snap *zones.Snapshot, ds []health.Decision, stderr io.Writer) (event.PromQuery, int) {
	q := event.PromQuery{URL: strings.TrimRight(f.promURL, "/"), Step: f.step, Delivered: f.delivered, Viewers: f.viewers}
	tl := event.Analyze(ds, time.Time{})
	var err error
	if q.From, err = parseWhen(f.from, tl.Start); err != nil {
		fmt.Fprintf(stderr, "cdnsteer report: -from: %v\n", err)
		return q, 2
	}
	if q.To, err = parseWhen(f.to, tl.End); err != nil {
		fmt.Fprintf(stderr, "cdnsteer report: -to: %v\n", err)
		return q, 2
	}
	if q.From.IsZero() || q.To.IsZero() {
		fmt.Fprintln(stderr, "cdnsteer report: -from and -to are required when the log holds no decisions")
		return q, 2
	}
	if !q.To.After(q.From) {
		fmt.Fprintf(stderr, "cdnsteer report: -to %s is not after -from %s\n", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
		return q, 2
	}
	if q.Delivered == "" && snap != nil && snap.Prometheus != nil {
		q.Delivered = snap.Prometheus.Queries["throughput_gbps"]
	}
	return q, 0
}

// parseWhen reads RFC 3339 or Unix seconds; empty gives def.
func parseWhen(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Unix(0, int64(secs*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-06-14T10:15:00Z) nor Unix seconds", s)
}
