package sim

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/report"
)

// Output files, in the directory given to Write.
const (
	FileIntervalsCSV = "intervals.csv"  // one row per interval, region and CDN
	FileCDNsCSV      = "cdns.csv"       // one row per interval and CDN, all regions
	FileIntervals    = "intervals.json" // both, one interval per line
	FileSummary      = "summary.json"
	FileDecisions    = "decisions.jsonl" // the engine's decision log
	FileReport       = "report.html"
)

// Write puts every output of the run in dir, creating it if needed. The
// same scenario and seed give byte-identical files.
func (r *Result) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write simulation: %w", err)
	}
	for name, write := range map[string]func(*bufio.Writer) error{
		FileIntervalsCSV: r.writeIntervalsCSV,
		FileCDNsCSV:      r.writeCDNsCSV,
		FileIntervals:    r.writeIntervalsJSON,
		FileSummary:      r.writeSummary,
		FileDecisions:    r.writeDecisions,
		FileReport:       func(w *bufio.Writer) error { return report.Render(w, r.Document()) },
	} {
		if err := writeFile(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write simulation: %w", err)
	}
	w := bufio.NewWriter(f)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// num formats a value with a fixed number of decimals, so that columns
// are stable and files diff well.
func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (r *Result) writeIntervalsCSV(w *bufio.Writer) error {
	sc, ser := r.Scenario, r.Series
	cw := csv.NewWriter(w)
	cw.Write([]string{"time", "elapsed_s", "region", "cdn", "viewers", "demand_gbps", "delivered_gbps", "region_commit_gbps", "utilisation",
		"impaired_viewers", "faulted", "saturated", "ttfb_ms", "error_rate", "cache_hit_ratio", "weight", "share", "score", "status"})
	for _, iv := range ser.Intervals {
		for ri, region := range ser.Regions {
			for ci, cdn := range ser.CDNs {
				c := &iv.Cells[ri][ci]
				commit, util := "", ""
				if rc := sc.CDNs[ci].Regions[ri].CommitGbps; rc > 0 {
					commit, util = num(rc, 1), num(c.Utilisation, 4)
				}
				score := ""
				if c.Score != nil {
					score = num(*c.Score, 1)
				}
				cw.Write([]string{stamp(iv.Time), num(iv.Elapsed.Seconds(), 0), region, cdn, num(c.Viewers, 0), num(c.DemandGbps, 3), num(c.DeliveredGbps, 3),
					commit, util, num(c.Impaired, 0), strconv.FormatBool(c.Faulted), strconv.FormatBool(c.Saturated),
					num(c.TTFBMs, 1), num(c.ErrorRate, 5), num(c.CacheHit, 4), num(c.Weight, 3), num(c.Share, 4), score, string(c.Status)})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func (r *Result) writeCDNsCSV(w *bufio.Writer) error {
	sc, ser := r.Scenario, r.Series
	cw := csv.NewWriter(w)
	cw.Write([]string{"time", "elapsed_s", "audience", "cdn", "viewers", "demand_gbps", "delivered_gbps", "commit_gbps", "utilisation", "impaired_viewers"})
	for _, iv := range ser.Intervals {
		for ci, cdn := range ser.CDNs {
			t := &iv.CDNs[ci]
			commit, util := "", ""
			if c := sc.CDNs[ci].CommitGbps; c > 0 {
				commit, util = num(c, 1), num(t.Utilisation, 4)
			}
			cw.Write([]string{stamp(iv.Time), num(iv.Elapsed.Seconds(), 0), num(iv.Audience, 0), cdn, num(t.Viewers, 0), num(t.DemandGbps, 3),
				num(t.DeliveredGbps, 3), commit, util, num(t.Impaired, 0)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// jsonCDN is one CDN's totals in intervals.json.
type jsonCDN struct {
	Viewers       float64  `json:"viewers"`
	DemandGbps    float64  `json:"demand_gbps"`
	DeliveredGbps float64  `json:"delivered_gbps"`
	Utilisation   *float64 `json:"utilisation,omitempty"`
	Impaired      float64  `json:"impaired_viewers"`
}

// jsonCell is one CDN in one region in intervals.json.
type jsonCell struct {
	Viewers       float64       `json:"viewers"`
	DemandGbps    float64       `json:"demand_gbps"`
	DeliveredGbps float64       `json:"delivered_gbps"`
	Utilisation   *float64      `json:"utilisation,omitempty"`
	Impaired      float64       `json:"impaired_viewers"`
	Faulted       bool          `json:"faulted,omitempty"`
	Saturated     bool          `json:"saturated,omitempty"`
	TTFBMs        float64       `json:"ttfb_ms"`
	ErrorRate     float64       `json:"error_rate"`
	CacheHit      float64       `json:"cache_hit_ratio"`
	Weight        float64       `json:"weight"`
	Share         float64       `json:"share"`
	Score         *float64      `json:"score"`
	Status        health.Status `json:"status"`
}

type jsonInterval struct {
	Time     string                         `json:"time"`
	Elapsed  float64                        `json:"elapsed_s"`
	Audience float64                        `json:"audience"`
	CDNs     map[string]jsonCDN             `json:"cdns"`
	Regions  map[string]map[string]jsonCell `json:"regions"`
}

func ratio(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	x := health.Round(v, 4)
	return &x
}

// writeIntervalsJSON writes a header object whose "intervals" array has
// one interval per line, so the file can be read in a stream or diffed.
func (r *Result) writeIntervalsJSON(w *bufio.Writer) error {
	sc, ser := r.Scenario, r.Series
	commits := map[string]float64{}
	for _, c := range sc.CDNs {
		commits[c.Name] = c.CommitGbps
	}
	head, err := json.Marshal(map[string]any{
		"scenario": sc.Name, "policy": sc.Policy.Name, "start": stamp(sc.Start), "step_s": sc.Step.Seconds(),
		"interval_s": ser.Interval.Seconds(), "regions": ser.Regions, "cdns": ser.CDNs, "commit_gbps": commits, "seed": sc.Seed,
	})
	if err != nil {
		return err
	}
	w.Write(head[:len(head)-1])
	w.WriteString(`,"intervals":[` + "\n")
	for i, iv := range ser.Intervals {
		ji := jsonInterval{Time: stamp(iv.Time), Elapsed: iv.Elapsed.Seconds(), Audience: health.Round(iv.Audience, 0),
			CDNs: map[string]jsonCDN{}, Regions: map[string]map[string]jsonCell{}}
		for ci, cdn := range ser.CDNs {
			t := &iv.CDNs[ci]
			ji.CDNs[cdn] = jsonCDN{Viewers: health.Round(t.Viewers, 0), DemandGbps: health.Round(t.DemandGbps, 3), DeliveredGbps: health.Round(t.DeliveredGbps, 3),
				Utilisation: ratio(t.Utilisation, sc.CDNs[ci].CommitGbps > 0), Impaired: health.Round(t.Impaired, 0)}
		}
		for ri, region := range ser.Regions {
			m := map[string]jsonCell{}
			for ci, cdn := range ser.CDNs {
				c := &iv.Cells[ri][ci]
				m[cdn] = jsonCell{Viewers: health.Round(c.Viewers, 0), DemandGbps: health.Round(c.DemandGbps, 3), DeliveredGbps: health.Round(c.DeliveredGbps, 3),
					Utilisation: ratio(c.Utilisation, sc.CDNs[ci].Regions[ri].CommitGbps > 0), Impaired: health.Round(c.Impaired, 0),
					Faulted: c.Faulted, Saturated: c.Saturated, TTFBMs: health.Round(c.TTFBMs, 1), ErrorRate: health.Round(c.ErrorRate, 5),
					CacheHit: health.Round(c.CacheHit, 4), Weight: health.Round(c.Weight, 3), Share: health.Round(c.Share, 4), Score: c.Score, Status: c.Status}
			}
			ji.Regions[region] = m
		}
		line, err := json.Marshal(ji)
		if err != nil {
			return err
		}
		w.Write(line)
		if i+1 < len(ser.Intervals) {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
	}
	_, err = w.WriteString("]}\n")
	return err
}

func (r *Result) writeSummary(w *bufio.Writer) error {
	b, err := json.MarshalIndent(r.Summary, "", "  ")
	if err != nil {
		return err
	}
	w.Write(b)
	return w.WriteByte('\n')
}

// writeDecisions writes the decision log in the format of the server's
// decision_log, so `cdnsteer report` reads it as it reads a real one.
func (r *Result) writeDecisions(w *bufio.Writer) error {
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
