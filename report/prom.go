package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Default queries of FetchTraffic. Delivered is cdnsteer's own reading of
// each CDN's throughput per region (max: every instance of a fleet
// exports the same); a CDN-log series, such as the policy's
// [prometheus] queries.throughput_gbps, is better where there is one.
const (
	DefaultDelivered = `max by (region, cdn) (cdnsteer_cdn_signal{signal="throughput_gbps"})`
	DefaultViewers   = `max by (region, cdn) (cdnsteer_steering_sessions)`
	// answersMetric is cdnsteer's counter of steered answers.
	answersMetric = "cdnsteer_dns_answers_total"
	// qoePrefix names the QoE metrics: cdnsteer_qoe_* with cdn and region.
	qoePrefix = "cdnsteer_qoe_"
)

// PromQuery is what FetchTraffic asks a Prometheus server.
type PromQuery struct {
	URL      string
	From, To time.Time
	// Step is the range queries' resolution; 0 lets ChooseStep pick.
	Step time.Duration
	// Delivered and Viewers are PromQL giving Gbit/s and viewers by cdn
	// (and region) label; empty means the defaults.
	Delivered string
	Viewers   string
	// Timeout bounds each query; 0 means 30 s.
	Timeout time.Duration
}

// stepLadder are the steps ChooseStep picks from: each divides the
// billing window (5 minutes), so that billing samples hold whole steps.
var stepLadder = []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute}

// maxPoints keeps a chart readable and a range query well within what
// Prometheus answers (11,000 points a series).
const maxPoints = 1000

// ChooseStep is the finest step of the ladder that keeps span within
// maxPoints points.
func ChooseStep(span time.Duration) time.Duration {
	for _, s := range stepLadder {
		if span/s <= maxPoints {
			return s
		}
	}
	return stepLadder[len(stepLadder)-1]
}

// promFetch is one FetchTraffic: the client, the range and the result.
type promFetch struct {
	api     v1.API
	q       PromQuery
	tr      *Traffic
	rateWin string // the window of rate(): a step, at least a minute
}

// FetchTraffic reads an event's traffic, answers and QoE from Prometheus
// with range queries. It never fails: what could not be read is noted in
// the Traffic's Missing, by section, so that the report says which
// sections are missing and renders the rest.
func FetchTraffic(ctx context.Context, q PromQuery, commits map[Place]float64) *Traffic {
	if q.Step <= 0 {
		q.Step = ChooseStep(q.To.Sub(q.From))
	}
	if q.Delivered == "" {
		q.Delivered = DefaultDelivered
	}
	if q.Viewers == "" {
		q.Viewers = DefaultViewers
	}
	if q.Timeout <= 0 {
		q.Timeout = 30 * time.Second
	}
	tr := NewTraffic("Prometheus "+q.URL, q.From, q.To, q.Step)
	for p, c := range commits {
		tr.Commit[p] = c
	}
	client, err := api.NewClient(api.Config{Address: q.URL})
	if err != nil {
		tr.missAll(fmt.Sprintf("Prometheus %s: %v", q.URL, err))
		return tr
	}
	f := &promFetch{api: v1.NewAPI(client), q: q, tr: tr, rateWin: promDuration(max(q.Step, time.Minute))}
	// One cheap query first: a server that is down is said once, not per
	// section.
	if _, err := f.rangeQuery(ctx, "vector(1)"); err != nil {
		tr.missAll(fmt.Sprintf("Prometheus at %s did not answer: %v", q.URL, err))
		return tr
	}
	f.delivered(ctx)
	f.viewers(ctx)
	f.answers(ctx)
	f.qoe(ctx)
	return tr
}

// missAll notes why for every section Prometheus feeds.
func (tr *Traffic) missAll(why string) {
	for _, s := range []string{SecTraffic, SecBilling, SecAnswers, SecQoE, SecDegradations, SecForecast} {
		tr.Miss(s, why)
	}
}

func (f *promFetch) rangeQuery(ctx context.Context, expr string) (model.Matrix, error) {
	ctx, cancel := context.WithTimeout(ctx, f.q.Timeout)
	defer cancel()
	// A point stands for the step it begins: none begins at the end.
	end := f.q.To.Add(-f.q.Step)
	if end.Before(f.q.From) {
		end = f.q.From
	}
	val, warns, _, err := f.api.QueryRange(ctx, expr, v1.Range{Start: f.q.From, End: end, Step: f.q.Step}, v1.WithTimeout(f.q.Timeout))
	if err != nil {
		return nil, err
	}
	if len(warns) > 0 {
		// A partial answer (a store missing) is kept, and said.
		f.tr.Miss(SecTraffic, fmt.Sprintf("Prometheus warned on %s: %s", expr, strings.Join(warns, "; ")))
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s: a %s, not a range vector", expr, val.Type())
	}
	return m, nil
}

// byPlace groups a matrix by its cdn and region labels, adding up series
// that share both (other labels, such as pop). It returns how many
// series had no cdn label.
func byPlace(m model.Matrix) (map[Place][]Point, int) {
	sums := map[Place]map[time.Time]float64{}
	dropped := 0
	for _, s := range m {
		cdn := string(s.Metric["cdn"])
		if cdn == "" {
			dropped++
			continue
		}
		p := Place{string(s.Metric["region"]), cdn}
		if sums[p] == nil {
			sums[p] = map[time.Time]float64{}
		}
		for _, v := range s.Values {
			sums[p][v.Timestamp.Time().UTC()] += float64(v.Value)
		}
	}
	out := map[Place][]Point{}
	for p, byT := range sums {
		pts := make([]Point, 0, len(byT))
		for t, v := range byT {
			pts = append(pts, Point{t, v})
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].T.Before(pts[j].T) })
		out[p] = pts
	}
	return out, dropped
}

// series runs expr and groups it by place; a failure or an empty answer
// is noted for section.
func (f *promFetch) series(ctx context.Context, section, what, expr string) map[Place][]Point {
	m, err := f.rangeQuery(ctx, expr)
	if err != nil {
		f.tr.Miss(section, fmt.Sprintf("%s: the query %s failed: %v", what, expr, err))
		return nil
	}
	got, dropped := byPlace(m)
	if dropped > 0 {
		f.tr.Miss(section, fmt.Sprintf("%s: %d series of %s have no cdn label and were left out", what, dropped, expr))
	}
	if len(got) == 0 {
		f.tr.Miss(section, fmt.Sprintf("%s: no series for %s from %s to %s UTC", what, expr, stamp(f.q.From), stamp(f.q.To)))
	}
	return got
}

func (f *promFetch) delivered(ctx context.Context) {
	got := f.series(ctx, SecTraffic, "delivered Gbit/s", f.q.Delivered)
	if len(got) == 0 {
		why := "no delivered traffic to bill"
		f.tr.Miss(SecBilling, why)
		f.tr.Miss(SecDegradations, "no delivered traffic: the traffic left on a degraded CDN is unknown")
		f.tr.Miss(SecForecast, "no delivered traffic to set beside the forecast")
		return
	}
	f.tr.Delivered = got
	f.tr.fillTotals()
}

func (f *promFetch) viewers(ctx context.Context) {
	got := f.series(ctx, SecForecast, "viewers", f.q.Viewers)
	for p, pts := range got {
		if p.Region != "" {
			f.tr.Viewers[p] = pts
		}
	}
}

// answers reads cdnsteer's answer counters: the rate over time and the
// increase over the whole range, by region and CDN (policies summed).
func (f *promFetch) answers(ctx context.Context) {
	rate := fmt.Sprintf("sum by (region, cdn) (rate(%s[%s]))", answersMetric, f.rateWin)
	got := f.series(ctx, SecAnswers, "answers", rate)
	byCDN := map[string]map[time.Time]float64{}
	for p, pts := range got {
		if byCDN[p.CDN] == nil {
			byCDN[p.CDN] = map[time.Time]float64{}
		}
		for _, pt := range pts {
			byCDN[p.CDN][pt.T] += pt.V
		}
	}
	for cdn, byT := range byCDN {
		pts := make([]Point, 0, len(byT))
		for t, v := range byT {
			pts = append(pts, Point{t, v})
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].T.Before(pts[j].T) })
		f.tr.AnswerRate[cdn] = pts
	}
	if len(got) == 0 {
		return
	}
	// The totals: the counters' increase over the whole range, resets
	// (restarts) counted as Prometheus counts them.
	total := fmt.Sprintf("sum by (region, cdn) (increase(%s[%s]))", answersMetric, promDuration(f.q.To.Sub(f.q.From)))
	qctx, cancel := context.WithTimeout(ctx, f.q.Timeout)
	defer cancel()
	val, _, _, err := f.api.Query(qctx, total, f.q.To, v1.WithTimeout(f.q.Timeout))
	vec, ok := val.(model.Vector)
	if err != nil || !ok {
		f.tr.Miss(SecAnswers, fmt.Sprintf("answers: the query %s failed: %v", total, err))
		return
	}
	for _, s := range vec {
		if cdn := string(s.Metric["cdn"]); cdn != "" {
			f.tr.Answers[Place{string(s.Metric["region"]), cdn}] += float64(s.Value)
		}
	}
}

// promDuration writes d as PromQL does, in whole seconds.
func promDuration(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(d.Round(time.Second)/time.Second))
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
