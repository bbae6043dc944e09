package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// eventScenario is a 40-minute match of the football policy with billing
// terms and an Akamai fault in Korea long enough to follow for 15
// minutes; output every 15 s, the step the report picks for 40 minutes.
const eventScenario = `
name = "recorded event"
policy = "match"
start = %s
step = "1s"
output_interval = "15s"
[audience]
points = [{ at = "0m", viewers = 200000 }, { at = "10m", viewers = 900000 }, { at = "40m", viewers = 900000 }]
[region.kr]
share = 0.6
resolvers = 40
ecs_subnets = 8
[region.eu]
share = 0.4
resolvers = 30
ecs_subnets = 4
[cdn.akamai.billing]
model = "p95"
commit_gbps = 1000
price_per_gbps = 40
overage_price_per_gbps = 60
[cdn.cloudfront.billing]
model = "volume"
commit_tb = 100
price_per_tb = 25
[[fault]]
cdn = "akamai"
region = "kr"
start = "8m"
end = "22m"
ttfb_add_ms = 600
`

const footballPolicy = "../../zones/examples/football.toml"

// recorded is a rehearsal run played as a real event: its output and the
// same numbers as OpenMetrics, which is what Prometheus is fed.
type recorded struct {
	dir, scenario string
	start, end    time.Time
	cells         []fixtureCell
	openMetrics   string
	// answers is each CDN's answer counter's increase over the event.
	answers map[string]float64
}

// fixtureCell is one row of the rehearsal's intervals.csv.
type fixtureCell struct {
	t                        time.Time
	region, cdn              string
	viewers, delivered, ttfb float64
	share                    float64
	status                   string
}

// answerRate is the synthetic answer rate of a region (answers/s), given
// out by the live share: cdnsteer's counters are not simulated, so the
// fixture makes them, and the test expects what it made.
const answerRate = 50.0

// recordEvent runs the rehearsal starting at start and turns its output
// into the series an event of cdnsteer and its CDN logs would leave in
// Prometheus.
func recordEvent(t *testing.T, start time.Time) *recorded {
	t.Helper()
	r := &recorded{dir: filepath.Join(t.TempDir(), "rehearsal"), start: start, answers: map[string]float64{}}
	r.scenario = writeScenario(t, fmt.Sprintf(eventScenario, start.Format(time.RFC3339)))
	var out, errOut bytes.Buffer
	if code := run([]string{"simulate", "-config", footballPolicy, "-scenario", r.scenario, "-o", r.dir}, &out, &errOut); code != 0 {
		t.Fatalf("simulate = %d: %s", code, errOut.String())
	}
	f, err := os.Open(filepath.Join(r.dir, "intervals.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(row []string, name string) float64 {
		v, _ := strconv.ParseFloat(row[col[name]], 64)
		return v
	}
	for _, row := range rows[1:] {
		ts, err := time.Parse(time.RFC3339, row[col["time"]])
		if err != nil {
			t.Fatal(err)
		}
		r.cells = append(r.cells, fixtureCell{t: ts, region: row[col["region"]], cdn: row[col["cdn"]], viewers: num(row, "viewers"),
			delivered: num(row, "delivered_gbps"), ttfb: num(row, "ttfb_ms"), share: num(row, "share"), status: row[col["status"]]})
	}
	r.end = r.cells[len(r.cells)-1].t.Add(15 * time.Second)
	r.openMetrics = r.toOpenMetrics()
	return r
}

// toOpenMetrics writes the cells as OpenMetrics, one family at a time and
// each series in time order, as promtool's backfill wants: CDN-log
// delivered Gbit/s, cdnsteer's steering sessions as viewers, its answer
// counters and a QoE gauge.
func (r *recorded) toOpenMetrics() string {
	bySeries := map[string][]fixtureCell{}
	var keys []string
	for _, c := range r.cells {
		k := c.region + "/" + c.cdn
		if _, ok := bySeries[k]; !ok {
			keys = append(keys, k)
		}
		bySeries[k] = append(bySeries[k], c)
	}
	sort.Strings(keys)
	var b strings.Builder
	family := func(name, typ, sample string, value func(c fixtureCell, counter *float64) float64, labels string) {
		fmt.Fprintf(&b, "# TYPE %s %s\n", name, typ)
		for _, k := range keys {
			counter := 0.0
			for _, c := range bySeries[k] {
				v := value(c, &counter)
				fmt.Fprintf(&b, "%s{%scdn=%q,region=%q} %g %d\n", sample, labels, c.cdn, c.region, v, c.t.Unix())
			}
		}
	}
	family("cdn_delivered_gbps", "gauge", "cdn_delivered_gbps", func(c fixtureCell, _ *float64) float64 { return c.delivered }, "")
	family("cdnsteer_steering_sessions", "gauge", "cdnsteer_steering_sessions", func(c fixtureCell, _ *float64) float64 { return c.viewers }, "")
	family("cdnsteer_qoe_segment_ttfb_ms", "gauge", "cdnsteer_qoe_segment_ttfb_ms", func(c fixtureCell, _ *float64) float64 { return c.ttfb }, "")
	family("cdnsteer_dns_answers", "counter", "cdnsteer_dns_answers_total", func(c fixtureCell, counter *float64) float64 {
		v := *counter
		*counter += answerRate * c.share * 15
		return v
	}, `policy="match",`)
	b.WriteString("# EOF\n")
	// The increase the counters show: from the first sample to the last.
	for _, k := range keys {
		cs := bySeries[k]
		for _, c := range cs[:len(cs)-1] {
			r.answers[c.cdn] += answerRate * c.share * 15
		}
	}
	return b.String()
}

// delivered is the CDN's delivered Gbit/s in region ("": all) at t, as
// the cells have it (the interval t falls in).
func (r *recorded) delivered(region, cdn string, t time.Time) (float64, bool) {
	sum, found := 0.0, false
	for _, c := range r.cells {
		if c.cdn == cdn && (region == "" || c.region == region) && !t.Before(c.t) && t.Before(c.t.Add(15*time.Second)) {
			sum += c.delivered
			found = true
		}
	}
	return sum, found
}

// series is the CDN's all-regions delivered series, interval by interval.
func (r *recorded) series(cdn string) []float64 {
	byT := map[time.Time]float64{}
	var ts []time.Time
	for _, c := range r.cells {
		if c.cdn != cdn {
			continue
		}
		if _, ok := byT[c.t]; !ok {
			ts = append(ts, c.t)
		}
		byT[c.t] += c.delivered
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	out := make([]float64, len(ts))
	for i, t := range ts {
		out[i] = byT[t]
	}
	return out
}

// readTable reads a CSV table the report wrote beside page, as rows keyed
// by their first cells joined with "/".
func readTable(t *testing.T, page, id string, key int) (head []string, rows map[string][]string) {
	t.Helper()
	path := strings.TrimSuffix(page, ".html") + "-" + id + ".csv"
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("table %s: %v", id, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = map[string][]string{}
	for _, rec := range recs[1:] {
		rows[strings.Join(rec[:key], "/")] = rec
	}
	return recs[0], rows
}

// cellNum reads a table cell's leading number.
func cellNum(t *testing.T, s string) float64 {
	t.Helper()
	f := strings.Fields(s)
	if len(f) == 0 {
		t.Fatalf("empty cell")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("cell %q: %v", s, err)
	}
	return v
}
