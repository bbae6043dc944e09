package admin

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// historyJSON is the answer of GET /api/v1/history: column-wise, so that
// half an hour of samples is a few arrays of numbers rather than
// thousands of repeated objects. Times[i] is the time of the i-th value
// of every series.
type historyJSON struct {
	// IntervalMs is the time between samples now: the configured
	// interval, or more when the series outgrow the history's budget.
	IntervalMs int64 `json:"interval_ms"`
	WindowS    int64 `json:"window_s"`
	// Until is the newest sample's time: pass it as since to get only what
	// is newer. Absent while the history is empty.
	Until   string             `json:"until,omitempty"`
	Times   []int64            `json:"times"` // Unix milliseconds
	Series  []seriesJSON       `json:"series"`
	Regions []regionSeriesJSON `json:"regions"`
}

// seriesJSON is one CDN of a policy and region over time. A null value
// was not measured then (or the CDN was not in the policy).
type seriesJSON struct {
	Policy  string          `json:"policy"`
	Region  string          `json:"region"`
	CDN     string          `json:"cdn"`
	Status  nullStrings     `json:"status"`
	Score   nums            `json:"score"`
	Weight  nums            `json:"weight"`
	Share   nums            `json:"share"`
	Signals map[string]nums `json:"signals"`
}

// regionSeriesJSON is one region's flags over time.
type regionSeriesJSON struct {
	Policy     string `json:"policy"`
	Region     string `json:"region"`
	FailedOpen []bool `json:"failed_open"`
	Stale      []bool `json:"stale"`
}

// since returns the samples newer than t (all for the zero time) within
// the window of the newest one, of one policy's series (all for "").
func (h *History) since(t time.Time, policy string) historyJSON {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := historyJSON{IntervalMs: h.every.Milliseconds(), WindowS: int64(h.window / time.Second),
		Times: []int64{}, Series: []seriesJSON{}, Regions: []regionSeriesJSON{}}
	if h.n == 0 {
		return out
	}
	newest := h.at(h.n - 1).t
	out.Until = newest.UTC().Format(time.RFC3339Nano)
	// Samples newer than t and within the window, oldest first.
	windowStart := newest.Add(-h.window)
	first := h.n
	for first > 0 {
		if st := h.at(first - 1).t; st.Before(windowStart) || !st.After(t) {
			break
		}
		first--
	}
	count := h.n - first
	if count == 0 {
		return out
	}

	// Series appear in the newest sample's order (the policy's), then any
	// that only older samples have (a CDN removed by a reload).
	cdnCol, regCol := map[int32]int{}, map[int32]int{}
	for i := h.n - 1; i >= first; i-- {
		s := h.at(i)
		for _, rp := range s.regions {
			if _, ok := regCol[rp.key]; !ok {
				k := h.keys[rp.key]
				if policy != "" && k.policy != policy {
					regCol[rp.key] = -1
					continue
				}
				regCol[rp.key] = len(out.Regions)
				out.Regions = append(out.Regions, regionSeriesJSON{Policy: k.policy, Region: k.region,
					FailedOpen: make([]bool, count), Stale: make([]bool, count)})
			}
		}
		for _, p := range s.points {
			if _, ok := cdnCol[p.key]; !ok {
				k := h.keys[p.key]
				if policy != "" && k.policy != policy {
					cdnCol[p.key] = -1
					continue
				}
				cdnCol[p.key] = len(out.Series)
				sj := seriesJSON{Policy: k.policy, Region: k.region, CDN: k.cdn, Status: make(nullStrings, count),
					Score: nanNums(count), Weight: nanNums(count), Share: nanNums(count), Signals: map[string]nums{}}
				for k := range health.NumKinds {
					sj.Signals[k.Key()] = nanNums(count)
				}
				out.Series = append(out.Series, sj)
			}
		}
	}
	out.Times = make([]int64, count)
	for j := range count {
		s := h.at(first + j)
		out.Times[j] = s.t.UnixMilli()
		for _, rp := range s.regions {
			if regCol[rp.key] < 0 {
				continue
			}
			r := &out.Regions[regCol[rp.key]]
			r.FailedOpen[j], r.Stale[j] = rp.failedOpen, rp.stale
		}
		for _, p := range s.points {
			if cdnCol[p.key] < 0 {
				continue
			}
			sj := &out.Series[cdnCol[p.key]]
			sj.Status[j] = string(h.status[p.status])
			sj.Score[j], sj.Weight[j], sj.Share[j] = p.v[vScore], p.v[vWeight], p.v[vShare]
			for k := range health.NumKinds {
				sj.Signals[k.Key()][j] = p.v[vSignals+int(k)]
			}
		}
	}
	return out
}

// nums is a column of values that encodes NaN (not measured) as null and
// every number in its shortest float32 form, which keeps the answer small.
type nums []float32

func nanNums(n int) nums {
	v := make(nums, n)
	for i := range v {
		v[i] = float32(math.NaN())
	}
	return v
}

// MarshalJSON implements json.Marshaler.
func (v nums) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(v)*6)
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return append(b, ']'), nil
}

// nullStrings is a column of strings that encodes "" (absent) as null.
type nullStrings []string

// MarshalJSON implements json.Marshaler.
func (v nullStrings) MarshalJSON() ([]byte, error) {
	out := make([]*string, len(v))
	for i := range v {
		if v[i] != "" {
			out[i] = &v[i]
		}
	}
	return json.Marshal(out)
}
