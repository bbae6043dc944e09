package report

import (
	"bytes"
	"testing"
	"time"
)

func TestChooseStep(t *testing.T) {
	for _, c := range []struct {
		span, want time.Duration
	}{{40 * time.Minute, 15 * time.Second}, {3 * time.Hour, 15 * time.Second}, {5 * time.Hour, 30 * time.Second},
		{16 * time.Hour, time.Minute}, {30 * 24 * time.Hour, 5 * time.Minute}} {
		got := ChooseStep(c.span)
		if got != c.want {
			t.Errorf("ChooseStep(%s) = %s, want %s", c.span, got, c.want)
		}
		if (5*time.Minute)%got != 0 {
			t.Errorf("%s does not divide the billing window", got)
		}
	}
}

func TestTrafficTotalsAndAt(t *testing.T) {
	t0 := time.Date(2026, 6, 14, 18, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * 15 * time.Second) }
	tr := NewTraffic("test", t0, at(4), 15*time.Second)
	tr.Delivered[Place{"kr", "akamai"}] = []Point{{at(0), 10}, {at(1), 20}, {at(3), 40}}
	tr.Delivered[Place{"eu", "akamai"}] = []Point{{at(0), 1}, {at(1), 2}, {at(3), 4}}
	tr.Delivered[Place{"kr", "fastly"}] = []Point{{at(0), 5}}
	tr.Delivered[Place{"", "fastly"}] = []Point{{at(0), 50}} // measured on its own: kept
	tr.fillTotals()
	all := tr.Delivered[Place{"", "akamai"}]
	if len(all) != 3 || all[0].V != 11 || all[1].V != 22 || all[2].V != 44 {
		t.Errorf("akamai in all = %v", all)
	}
	if f := tr.Delivered[Place{"", "fastly"}]; len(f) != 1 || f[0].V != 50 {
		t.Errorf("fastly's own total replaced: %v", f)
	}
	kr := tr.Delivered[Place{"kr", "akamai"}]
	for _, c := range []struct {
		t      time.Time
		v      float64
		wantOK bool
	}{{t0.Add(-time.Second), 0, false}, {at(0), 10, true}, {at(1).Add(14 * time.Second), 20, true}, {at(2), 0, false}, {at(3).Add(time.Second), 40, true}} {
		v, ok := tr.At(kr, c.t)
		if ok != c.wantOK || v != c.v {
			t.Errorf("At(%s) = %g, %v; want %g, %v", c.t.Format("15:04:05"), v, ok, c.v, c.wantOK)
		}
	}
	if got := tr.Regions(); len(got) != 2 || got[0] != "eu" {
		t.Errorf("regions %v", got)
	}
}

func TestQoEQueries(t *testing.T) {
	have := map[string]bool{"cdnsteer_qoe_startup_ms_sum": true, "cdnsteer_qoe_startup_ms_count": true, "cdnsteer_qoe_startup_ms_bucket": true,
		"cdnsteer_qoe_reports_total": true, "cdnsteer_qoe_rebuffer_ratio": true}
	for name, want := range map[string]string{
		"cdnsteer_qoe_startup_ms_sum":    "cdnsteer_qoe_startup_ms (mean)",
		"cdnsteer_qoe_startup_ms_count":  "",
		"cdnsteer_qoe_startup_ms_bucket": "",
		"cdnsteer_qoe_reports_total":     "cdnsteer_qoe_reports_total (per second)",
		"cdnsteer_qoe_rebuffer_ratio":    "cdnsteer_qoe_rebuffer_ratio",
	} {
		if got, _ := qoeQuery(name, have, "60s"); got != want {
			t.Errorf("qoeQuery(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestSplitMove(t *testing.T) {
	t0 := time.Date(2026, 6, 14, 18, 0, 0, 0, time.UTC)
	rk := RegionKey{"match", "kr"}
	tl := &Timeline{Shares: map[RegionKey][]SharesAt{rk: {
		{t0, map[string]float64{"akamai": 0.5, "fastly": 0.5}},
		{t0.Add(time.Minute), map[string]float64{"akamai": 0.6, "fastly": 0.4}}, // towards it: not a move off
		{t0.Add(2 * time.Minute), map[string]float64{"akamai": 0.2, "fastly": 0.8}},
	}}}
	at, before, after, ok := tl.splitMove(rk, "akamai", t0.Add(30*time.Second))
	if !ok || !at.Equal(t0.Add(2*time.Minute)) || before != 0.5 || after != 0.2 {
		t.Errorf("splitMove = %s %g %g %v", at, before, after, ok)
	}
	if _, _, _, ok := tl.splitMove(rk, "fastly", t0.Add(150*time.Second)); ok {
		t.Error("no move after fastly's degradation, yet one was found")
	}
}

func TestTableCSV(t *testing.T) {
	tb := &Table{Head: []string{"cdn", "answers", "note"}, Numeric: []bool{false, true, false},
		Rows: [][]string{{"akamai", "1,234,567", "a, b"}}}
	var b bytes.Buffer
	if err := tb.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if want := "cdn,answers,note\nakamai,1234567,\"a, b\"\n"; b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}
