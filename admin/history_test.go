package admin

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// view builds a one-policy, one-region view at t with the given CDNs'
// scores (nil: not measured).
func view(t time.Time, scores map[string]*float64) health.View {
	r := health.RegionView{Name: "kr", FailedOpen: len(scores) == 0}
	for _, name := range []string{"akamai", "fastly"} {
		s, ok := scores[name]
		if !ok {
			continue
		}
		r.CDNs = append(r.CDNs, health.CDNView{Name: name, Score: s, Status: health.Healthy, Weight: 10, Baseline: 10, Share: 0.5,
			Signals: health.Readings{Values: health.Values{health.TTFB: health.F(120), health.ErrorRate: health.F(0.01)}}})
	}
	return health.View{Time: t, Policies: []health.PolicyView{{Name: "live", Regions: []health.RegionView{r}}}}
}

// decodeHistory reads Since's answer the way a client would.
func decodeHistory(t *testing.T, h historyJSON) map[string]any {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

func TestHistoryRingKeepsTheWindow(t *testing.T) {
	h := NewHistory(10*time.Second, time.Second)
	for i := range 15 {
		if !h.Record(view(t0.Add(time.Duration(i)*time.Second), map[string]*float64{"akamai": health.F(float64(i))})) {
			t.Fatalf("sample %d refused", i)
		}
	}
	got := h.since(time.Time{}, "")
	if len(got.Times) != 11 || got.Times[0] != t0.Add(4*time.Second).UnixMilli() || got.Times[10] != t0.Add(14*time.Second).UnixMilli() {
		t.Fatalf("times %v: want the 11 samples from +4 s to +14 s", got.Times)
	}
	if s := got.Series[0].Score; s[0] != 4 || s[10] != 14 {
		t.Errorf("scores %v", s)
	}
	if got.Until != t0.Add(14*time.Second).Format(time.RFC3339Nano) || got.IntervalMs != 1000 || got.WindowS != 10 {
		t.Errorf("until %q, interval %d, window %d", got.Until, got.IntervalMs, got.WindowS)
	}
	// A view that is not newer is dropped: times only grow.
	if h.Record(view(t0.Add(14*time.Second), nil)) || h.Record(view(t0, nil)) {
		t.Error("a sample not newer than the last was recorded")
	}
}

func TestHistorySinceIsACursor(t *testing.T) {
	h := NewHistory(time.Minute, time.Second)
	if got := h.since(time.Time{}, ""); got.Until != "" || len(got.Times) != 0 || got.Series == nil {
		t.Errorf("empty history: %+v", got)
	}
	for i := range 5 {
		h.Record(view(t0.Add(time.Duration(i)*time.Second+300*time.Microsecond), map[string]*float64{"akamai": health.F(90)}))
	}
	all := h.since(time.Time{}, "")
	cursor, err := time.Parse(time.RFC3339, all.Until)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.since(cursor, ""); len(got.Times) != 0 || got.Until != all.Until {
		t.Errorf("nothing new since the cursor: got %d samples, until %q", len(got.Times), got.Until)
	}
	h.Record(view(t0.Add(5*time.Second), map[string]*float64{"akamai": health.F(50)}))
	got := h.since(cursor, "")
	if len(got.Times) != 1 || got.Series[0].Score[0] != 50 {
		t.Errorf("one new sample since the cursor: %+v", got)
	}
	// Times are kept to the millisecond, so a cursor taken from the
	// answer's unix times selects the same samples.
	if got := h.since(time.UnixMilli(all.Times[2]), ""); len(got.Times) != 3 {
		t.Errorf("since the third sample: %d samples, want 3", len(got.Times))
	}
}

func TestHistoryColumnsWithGaps(t *testing.T) {
	h := NewHistory(time.Minute, time.Second)
	h.Record(view(t0, map[string]*float64{"akamai": nil, "fastly": health.F(80)}))
	h.Record(view(t0.Add(time.Second), map[string]*float64{"akamai": health.F(99.5)})) // fastly removed by a reload
	h.Record(view(t0.Add(2*time.Second), nil))                                         // the region lost every CDN
	m := decodeHistory(t, h.since(time.Time{}, ""))
	series := m["series"].([]any)
	if len(series) != 2 {
		t.Fatalf("series %v", series)
	}
	// Every kind of the table has its column, null where unmeasured.
	signals := func(measured string) string {
		cols := map[string]json.RawMessage{}
		for _, k := range health.Kinds() {
			cols[k.Key] = json.RawMessage(`[null,null,null]`)
		}
		cols["error_rate"] = json.RawMessage(`[0.01,` + measured + `]`)
		cols["ttfb_ms"] = json.RawMessage(`[120,` + strings.ReplaceAll(measured, "0.01", "120") + `]`)
		b, _ := json.Marshal(cols)
		return string(b)
	}
	want := map[string]string{
		"akamai": `{"cdn":"akamai","policy":"live","region":"kr","score":[null,99.5,null],"share":[0.5,0.5,null],` +
			`"signals":` + signals("0.01,null") + `,` +
			`"status":["healthy","healthy",null],"weight":[10,10,null]}`,
		"fastly": `{"cdn":"fastly","policy":"live","region":"kr","score":[80,null,null],"share":[0.5,null,null],` +
			`"signals":` + signals("null,null") + `,` +
			`"status":["healthy",null,null],"weight":[10,null,null]}`,
	}
	for _, s := range series {
		b, _ := json.Marshal(s)
		name := s.(map[string]any)["cdn"].(string)
		if string(b) != want[name] {
			t.Errorf("%s:\n got %s\nwant %s", name, b, want[name])
		}
	}
	regions, _ := json.Marshal(m["regions"])
	if string(regions) != `[{"failed_open":[false,false,true],"policy":"live","region":"kr","stale":[false,false,false]}]` {
		t.Errorf("regions %s", regions)
	}
}

func TestNumsEncoding(t *testing.T) {
	b, err := json.Marshal(nums{0, 0.1, 83.4, float32(math.NaN()), float32(math.Inf(1)), 1e7})
	if err != nil || string(b) != "[0,0.1,83.4,null,null,1e+07]" {
		t.Errorf("%s %v", b, err)
	}
	b, _ = json.Marshal(nums{})
	if string(b) != "[]" {
		t.Errorf("empty: %s", b)
	}
}

func TestHistoryAPI(t *testing.T) {
	h := NewHistory(time.Minute, time.Second)
	// No engine: nothing samples, so the test decides what is recorded.
	f := newFixture(t, func(c *Config) { c.Engine, c.History = nil, h })
	for i := range 3 {
		h.Record(view(t0.Add(time.Duration(i)*time.Second), map[string]*float64{"akamai": health.F(90 + float64(i))}))
	}
	r := f.get("/api/v1/history")
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v: %s", r.code, r.header, r.body)
	}
	var got struct {
		Until  string
		Times  []int64
		Series []struct {
			CDN   string
			Score []float64
		}
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Times) != 3 || got.Series[0].CDN != "akamai" || got.Series[0].Score[2] != 92 {
		t.Fatalf("%s", r.body)
	}
	r = f.get("/api/v1/history?since=" + got.Until)
	if m := r.json(t); r.code != 200 || len(m["times"].([]any)) != 0 {
		t.Errorf("since the last sample: %d %s", r.code, r.body)
	}
	r = f.get("/api/v1/history?since=2026-06-14T19:00:00.5Z")
	if m := r.json(t); r.code != 200 || len(m["times"].([]any)) != 2 {
		t.Errorf("since a fractional time: %d %s", r.code, r.body)
	}

	expectError(t, f.get("/api/v1/history?since=yesterday"), http.StatusBadRequest, "since")
	r = f.get("/api/v1/history?since=2026-06-14T19:00:00+02:00")
	expectError(t, r, http.StatusBadRequest, "since")
	if !strings.Contains(r.json(t)["error"].(string), "%2B") {
		t.Errorf("no hint about the unencoded +: %s", r.body)
	}
	expectError(t, f.get("/api/v1/history?from=1"), http.StatusBadRequest, "from")
	expectError(t, f.get("/api/v1/history?since=a&since=b"), http.StatusBadRequest, "since")
	expectError(t, f.do("POST", "/api/v1/history", "{}", testToken), http.StatusMethodNotAllowed, "")
}

func TestHistoryNeedsAnEngine(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Engine = nil })
	r := f.get("/api/v1/history")
	expectError(t, r, http.StatusServiceUnavailable, "")
}

// TestHistorySampling runs the real sampler against the engine: the
// history fills by itself, one sample per interval, and stops at Shutdown.
func TestHistorySampling(t *testing.T) {
	h := NewHistory(time.Minute, 10*time.Millisecond)
	f := newFixture(t, func(c *Config) { c.History, c.Now = h, time.Now })
	f.engine.Push(health.Signal{CDN: "fastly", Time: time.Now(), Values: health.Values{health.TTFB: health.F(900), health.ErrorRate: health.F(0.2)}})
	f.engine.Evaluate(time.Now())
	eventually(t, "five samples", func() bool { return len(h.since(time.Time{}, "").Times) >= 5 })
	got := h.since(time.Time{}, "")
	if len(got.Series) != 8 || len(got.Regions) != 2 {
		t.Fatalf("%d series, %d regions: want 4 CDNs × 2 regions", len(got.Series), len(got.Regions))
	}
	last := len(got.Times) - 1
	found := false
	for _, s := range got.Series {
		if s.CDN == "fastly" && s.Region == "kr" {
			found = true
			if s.Signals[health.TTFB.Key()][last] != 900 || s.Score[last] >= 100 {
				t.Errorf("fastly in kr: ttfb %v, score %v", s.Signals[health.TTFB.Key()][last], s.Score[last])
			}
		}
	}
	if !found {
		t.Error("no fastly/kr series in the history")
	}
	if err := f.srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := len(h.since(time.Time{}, "").Times)
	time.Sleep(50 * time.Millisecond)
	if m := len(h.since(time.Time{}, "").Times); m != n {
		t.Errorf("%d samples taken after Shutdown", m-n)
	}
}
