package sim

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/report"
)

// FileStatesCSV is a replay's every CDN's state, every ReplayInterval.
// A replay also writes FileDecisions, FileSummary (a ReplaySummary) and
// FileReport; it has no audience, so no intervals or cdns files.
const FileStatesCSV = "states.csv"

// ReplaySummary is the headline of a replay.
type ReplaySummary struct {
	Policy      string    `json:"policy"`
	Replay      []string  `json:"replay"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Signals     int       `json:"signals"`
	TornLines   int       `json:"torn_lines"`
	Evaluations int       `json:"evaluations"`
	// From the decision log, as a simulation's summary counts them, and
	// the times a region failed open or held its split for lack of
	// fresh signals.
	Decisions    int `json:"decisions"`
	Degradations int `json:"degradations"`
	Shifts       int `json:"shifts"`
	FailOpens    int `json:"fail_opens"`
	Stale        int `json:"stale"`
	// CDNs has one row per policy, region and CDN.
	CDNs []ReplayCDNSummary `json:"cdns"`
}

// ReplayCDNSummary is one CDN in one policy and region over a replay.
type ReplayCDNSummary struct {
	Policy       string  `json:"policy"`
	Region       string  `json:"region"`
	CDN          string  `json:"cdn"`
	Degradations int     `json:"degradations"`
	DegradedS    float64 `json:"degraded_s"`
	// The CDN's share of the region's new answers, over every
	// evaluation.
	MeanShare   float64 `json:"mean_share"`
	LowestShare float64 `json:"lowest_share"`
}

// Summary is the replay's headline.
func (r *ReplayResult) Summary() ReplaySummary {
	s := ReplaySummary{Policy: r.Policy, Replay: r.Files, Start: r.Start.UTC(), End: r.End.UTC(), Signals: r.Signals, TornLines: r.Torn,
		Evaluations: r.Evaluations, Decisions: len(r.Decisions)}
	for _, d := range r.Decisions {
		switch {
		case d.Kind == health.DecisionState && d.To == string(health.Degraded):
			s.Degradations++
		case d.Kind == health.DecisionWeights:
			s.Shifts++
		case d.Kind == health.DecisionFailOpen:
			s.FailOpens++
		case d.Kind == health.DecisionStale:
			s.Stale++
		}
	}
	tl := report.Analyze(r.Decisions, r.End)
	var rows []ReplayCDNSummary
	for _, p := range r.cfg.Policies {
		for _, region := range r.cfg.Regions {
			for _, c := range r.cfg.CDNs {
				i := len(rows)
				k := report.Key{Policy: p.Name, Region: region, CDN: c.Name}
				rows = append(rows, ReplayCDNSummary{Policy: p.Name, Region: region, CDN: c.Name, Degradations: tl.Degradations[k],
					DegradedS: tl.DegradedTime(k).Seconds(),
					MeanShare: health.Round(r.shares.sum[i]/float64(r.shares.n), 4), LowestShare: health.Round(r.shares.lowest[i], 4)})
			}
		}
	}
	s.CDNs = rows
	return s
}

// Write puts the replay's outputs in dir, creating it if needed.
func (r *ReplayResult) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write replay: %w", err)
	}
	for name, write := range map[string]func(*bufio.Writer) error{
		FileDecisions: r.writeDecisions,
		FileStatesCSV: r.writeStates,
		FileSummary: func(w *bufio.Writer) error {
			b, err := json.MarshalIndent(r.Summary(), "", "  ")
			w.Write(b)
			w.WriteByte('\n')
			return err
		},
		FileReport: func(w *bufio.Writer) error { return report.Render(w, r.Document()) },
	} {
		if err := writeFile(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

// writeDecisions writes the candidate's decision log in the format of the
// server's, so `cdnsteer report` reads it too.
func (r *ReplayResult) writeDecisions(w *bufio.Writer) error {
	for _, d := range r.Decisions {
		line, err := json.Marshal(d)
		if err != nil {
			return err
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	return nil
}

func (r *ReplayResult) writeStates(w *bufio.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"time", "policy", "region", "cdn", "status", "score", "weight", "share", "failed_open", "stale", "utilisation", "capacity_factor"}
	for k := range health.NumKinds {
		head = append(head, k.Key())
	}
	cw.Write(head)
	opt := func(v *float64, prec int) string {
		if v == nil {
			return ""
		}
		return num(*v, prec)
	}
	for _, st := range r.States {
		row := []string{stamp(st.Time), r.cfg.Policies[st.Policy].Name, r.cfg.Regions[st.Region], r.cfg.CDNs[st.CDN].Name, string(st.Status),
			opt(st.Score, 1), num(st.Weight, 3), num(st.Share, 4), strconv.FormatBool(st.FailedOpen), strconv.FormatBool(st.Stale),
			opt(st.Utilisation, 4), num(st.CapacityFactor, 4)}
		for _, v := range st.Signals.Values {
			row = append(row, opt(v, 4))
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// Document is the replay's report: the post-event report's timeline of
// the candidate's decisions, headed by what was replayed.
func (r *ReplayResult) Document() *report.Document {
	doc := report.PostEvent(r.Decisions, 0, strings.Join(r.Files, ", "))
	doc.Title = "Replay: " + filepath.Base(r.Policy)
	doc.Subtitle = fmt.Sprintf("The %s signals recorded in %s, %s to %s UTC, replayed through the policy %s. "+
		"A replay has no audience model: it shows what the policy would have decided (statuses, splits, fail-opens), "+
		"not how many viewers that would have moved.",
		report.Int(float64(r.Signals)), strings.Join(r.Files, ", "), r.Start.UTC().Format("2006-01-02 15:04"), r.End.UTC().Format("2006-01-02 15:04"), r.Policy)
	if r.Torn > 0 {
		doc.Subtitle += fmt.Sprintf(" Skipped: %d line(s) cut short, as a crash or a full disk leaves them (the first at %s).", r.Torn, r.FirstTorn)
	}
	s := r.Summary()
	doc.Figures = append([]report.Figure{
		{ID: "signals", Label: "Signals replayed", Value: report.Int(float64(r.Signals)), Raw: float64(r.Signals)},
		{ID: "fail-opens", Label: "Fail-opens", Value: report.Int(float64(s.FailOpens)), Raw: float64(s.FailOpens), Note: "a region with every CDN out, serving its baseline"},
	}, doc.Figures...)
	return doc
}
