package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// qoe reads every cdnsteer_qoe_* metric the range has, whatever they are
// called: gauges as they are (averaged over instances), counters as rates,
// histograms as means (rate of _sum over rate of _count). A Prometheus
// without them gets a note, not an error: not every event has players
// reporting CMCD.
func (f *promFetch) qoe(ctx context.Context) {
	qctx, cancel := context.WithTimeout(ctx, f.q.Timeout)
	defer cancel()
	names, _, _, err := f.api.LabelValues(qctx, "__name__", []string{fmt.Sprintf(`{__name__=~"%s.+"}`, qoePrefix)}, f.q.From, f.q.To)
	if err != nil {
		f.tr.Miss(SecQoE, fmt.Sprintf("QoE: listing the %s* metrics failed: %v", qoePrefix, err))
		return
	}
	if len(names) == 0 {
		f.tr.Miss(SecQoE, fmt.Sprintf("no %s* series from %s to %s UTC: no player QoE (CMCD) was reported", qoePrefix, stamp(f.q.From), stamp(f.q.To)))
		return
	}
	have := map[string]bool{}
	for _, n := range names {
		have[string(n)] = true
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range have {
			if !yield(n) {
				return
			}
		}
	}) {
		label, expr := qoeQuery(name, have, f.rateWin)
		if expr == "" {
			continue
		}
		if got := f.series(ctx, SecQoE, label, expr); len(got) > 0 {
			f.tr.QoE[label] = got
		}
	}
}

// qoeQuery is the series to chart for the metric name, and its label; ""
// for a histogram's parts other than the one that stands for it.
func qoeQuery(name string, have map[string]bool, win string) (string, string) {
	base, isSum := strings.CutSuffix(name, "_sum")
	switch {
	case isSum && have[base+"_count"]:
		return base + " (mean)", fmt.Sprintf("sum by (region, cdn) (rate(%s_sum[%s])) / sum by (region, cdn) (rate(%s_count[%s]))", base, win, base, win)
	case strings.HasSuffix(name, "_bucket"), strings.HasSuffix(name, "_count") && have[strings.TrimSuffix(name, "_count")+"_sum"],
		strings.HasSuffix(name, "_created"):
		return "", ""
	case strings.HasSuffix(name, "_total"):
		return name + " (per second)", fmt.Sprintf("sum by (region, cdn) (rate(%s[%s]))", name, win)
	}
	return name, fmt.Sprintf("avg by (region, cdn) (%s)", name)
}
