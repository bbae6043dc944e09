package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// Chart geometry, in SVG user units; the SVG scales to the page width.
const (
	chartW  = 960
	chartH  = 260
	marginL = 72
	marginR = 24
	marginT = 18
	marginB = 30
	plotW   = chartW - marginL - marginR
	plotH   = chartH - marginT - marginB
)

// SVG renders the chart as an inline <svg> element.
func (c *Chart) SVG() string {
	start, end := c.span()
	top := c.top()
	x := func(t time.Time) float64 {
		return marginL + plotW*float64(t.Sub(start))/float64(end.Sub(start))
	}
	y := func(v float64) float64 {
		return marginT + plotH*(1-math.Max(0, v)/top)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		html.EscapeString(c.ID), chartW, chartH, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(c.Title))
	c.axes(&b, start, end, top, x, y)
	for _, band := range c.Bands {
		c.band(&b, band, start, end, x)
	}
	if c.Stacked {
		c.areas(&b, x, y)
	} else {
		for _, s := range c.Series {
			c.line(&b, s, end, x, y)
		}
	}
	for _, r := range c.Refs {
		fmt.Fprintf(&b, `<line class="ref" x1="%d" x2="%d" y1="%s" y2="%s" stroke="%s" stroke-dasharray="6 4"><title>%s</title></line>`,
			marginL, marginL+plotW, f1(y(r.V)), f1(y(r.V)), color(r.Color, "#444"), html.EscapeString(r.Label))
		fmt.Fprintf(&b, `<text class="ref-label" x="%d" y="%s" text-anchor="end">%s</text>`, marginL+plotW-4, f1(y(r.V)-4), html.EscapeString(r.Label))
	}
	for i, m := range c.Marks {
		if m.T.Before(start) || m.T.After(end) {
			continue
		}
		// Labels step down in three rows so that notes close in time do
		// not print over each other.
		fmt.Fprintf(&b, `<g class="mark"><line x1="%s" x2="%s" y1="%d" y2="%d" stroke="#555" stroke-dasharray="2 3"/><text x="%s" y="%d">%s</text><title>%s %s</title></g>`,
			f1(x(m.T)), f1(x(m.T)), marginT, marginT+plotH, f1(x(m.T)+3), marginT+10+12*(i%3), html.EscapeString(m.Label),
			m.T.UTC().Format("15:04:05"), html.EscapeString(m.Label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// span is the chart's time range: as given, or the data's.
func (c *Chart) span() (time.Time, time.Time) {
	start, end := c.Start, c.End
	if start.IsZero() || end.IsZero() {
		for _, s := range c.Series {
			for _, p := range s.Points {
				if start.IsZero() || p.T.Before(start) {
					start = p.T
				}
				if end.IsZero() || p.T.After(end) {
					end = p.T
				}
			}
		}
	}
	if !end.After(start) {
		end = start.Add(time.Minute)
	}
	return start, end
}

// top is the y axis maximum: fixed, or the data's (stacked: the highest
// total) rounded up to a tick.
func (c *Chart) top() float64 {
	if c.YMax > 0 {
		return c.YMax
	}
	m := 0.0
	if c.Stacked && len(c.Series) > 0 {
		for i := range c.Series[0].Points {
			sum := 0.0
			for _, s := range c.Series {
				if i < len(s.Points) {
					sum += s.Points[i].V
				}
			}
			m = math.Max(m, sum)
		}
	} else {
		for _, s := range c.Series {
			for _, p := range s.Points {
				m = math.Max(m, p.V)
			}
		}
	}
	for _, r := range c.Refs {
		m = math.Max(m, r.V)
	}
	if m <= 0 {
		return 1
	}
	step := niceStep(m * 1.05 / 5)
	return math.Ceil(m*1.05/step) * step
}

func (c *Chart) axes(b *strings.Builder, start, end time.Time, top float64, x func(time.Time) float64, y func(float64) float64) {
	fmt.Fprintf(b, `<rect class="plot" x="%d" y="%d" width="%d" height="%d" fill="#fff" stroke="#ccc"/>`, marginL, marginT, plotW, plotH)
	step := niceStep(top / 5)
	for v := 0.0; v <= top*1.0001; v += step {
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s" stroke="#eee"/>`, marginL, marginL+plotW, f1(y(v)), f1(y(v)))
		fmt.Fprintf(b, `<text class="tick" x="%d" y="%s" text-anchor="end">%s</text>`, marginL-6, f1(y(v)+4), Compact(v))
	}
	fmt.Fprintf(b, `<text class="unit" x="%d" y="%d" text-anchor="start">%s</text>`, 4, marginT-6, html.EscapeString(c.Unit))
	tick := timeStep(end.Sub(start))
	for t := start.Truncate(tick); !t.After(end); t = t.Add(tick) {
		if t.Before(start) {
			continue
		}
		fmt.Fprintf(b, `<line class="grid" x1="%s" x2="%s" y1="%d" y2="%d" stroke="#eee"/>`, f1(x(t)), f1(x(t)), marginT, marginT+plotH)
		fmt.Fprintf(b, `<text class="tick" x="%s" y="%d" text-anchor="middle">%s</text>`, f1(x(t)), chartH-10, t.UTC().Format("15:04"))
	}
}

func (c *Chart) band(b *strings.Builder, band Band, start, end time.Time, x func(time.Time) float64) {
	from, to := band.From, band.To
	if from.Before(start) {
		from = start
	}
	if to.After(end) || to.IsZero() {
		to = end
	}
	if !to.After(from) {
		return
	}
	w := x(to) - x(from)
	fmt.Fprintf(b, `<g class="band"><rect x="%s" y="%d" width="%s" height="%d" fill="%s" fill-opacity="0.14"/><title>%s %s–%s</title>`,
		f1(x(from)), marginT, f1(math.Max(w, 1)), plotH, color(band.Color, "#d62728"), html.EscapeString(band.Label),
		band.From.UTC().Format("15:04:05"), band.To.UTC().Format("15:04:05"))
	if w > 60 {
		fmt.Fprintf(b, `<text class="band-label" x="%s" y="%d">%s</text>`, f1(x(from)+3), marginT+plotH-5, html.EscapeString(band.Label))
	}
	b.WriteString(`</g>`)
}

// line draws one series, keeping each pixel column's lowest and highest
// value so that peaks survive however many points there are.
func (c *Chart) line(b *strings.Builder, s Series, end time.Time, x func(time.Time) float64, y func(float64) float64) {
	if len(s.Points) == 0 {
		return
	}
	var pts []string
	add := func(px, v float64) { pts = append(pts, f1(px)+","+f1(y(v))) }
	if c.Steps {
		idx := columns(s.Points, x)
		for k, i := range idx {
			add(x(s.Points[i].T), s.Points[i].V)
			next := end
			if k+1 < len(idx) {
				next = s.Points[idx[k+1]].T
			}
			add(x(next), s.Points[i].V)
		}
	} else {
		col, lo, hi, loAt, hiAt := -1, 0.0, 0.0, 0, 0
		flush := func() {
			if col < 0 {
				return
			}
			if loAt <= hiAt {
				add(float64(col), lo)
				add(float64(col), hi)
			} else {
				add(float64(col), hi)
				add(float64(col), lo)
			}
		}
		for i, p := range s.Points {
			px := int(math.Round(x(p.T)))
			if px != col {
				flush()
				col, lo, hi, loAt, hiAt = px, p.V, p.V, i, i
				continue
			}
			if p.V < lo {
				lo, loAt = p.V, i
			}
			if p.V > hi {
				hi, hiAt = p.V, i
			}
		}
		flush()
	}
	dash := ""
	if s.Dashed {
		dash = ` stroke-dasharray="5 3"`
	}
	fmt.Fprintf(b, `<polyline class="series" fill="none" stroke="%s" stroke-width="1.6"%s points="%s"><title>%s</title></polyline>`,
		color(s.Color, "#333"), dash, strings.Join(pts, " "), html.EscapeString(s.Name))
}

// areas draws stacked series, each between the running total below it
// and the total including it. Series share their timestamps.
func (c *Chart) areas(b *strings.Builder, x func(time.Time) float64, y func(float64) float64) {
	if len(c.Series) == 0 {
		return
	}
	n := len(c.Series[0].Points)
	for _, s := range c.Series {
		n = min(n, len(s.Points))
	}
	idx := columns(c.Series[0].Points[:n], x)
	below := make([]float64, len(idx))
	for _, s := range c.Series {
		above := make([]float64, len(idx))
		var pts []string
		for k, i := range idx {
			above[k] = below[k] + s.Points[i].V
			px := x(s.Points[i].T)
			if c.Steps && k+1 < len(idx) {
				pts = append(pts, f1(px)+","+f1(y(above[k])), f1(x(s.Points[idx[k+1]].T))+","+f1(y(above[k])))
				continue
			}
			pts = append(pts, f1(px)+","+f1(y(above[k])))
		}
		for k := len(idx) - 1; k >= 0; k-- {
			px := x(s.Points[idx[k]].T)
			if c.Steps && k+1 < len(idx) {
				pts = append(pts, f1(x(s.Points[idx[k+1]].T))+","+f1(y(below[k])), f1(px)+","+f1(y(below[k])))
				continue
			}
			pts = append(pts, f1(px)+","+f1(y(below[k])))
		}
		fmt.Fprintf(b, `<polygon class="area" fill="%s" fill-opacity="0.75" stroke="%s" stroke-width="0.5" points="%s"><title>%s</title></polygon>`,
			color(s.Color, "#888"), color(s.Color, "#888"), strings.Join(pts, " "), html.EscapeString(s.Name))
		below = above
	}
}

// columns picks the points to draw: the last of each pixel column, which
// keeps a chart of thousands of logged moves to about a point per pixel
// and ends each column on the value that held.
func columns(pts []Point, x func(time.Time) float64) []int {
	var idx []int
	prev := math.MinInt
	for i, p := range pts {
		px := int(math.Round(x(p.T)))
		if px == prev {
			idx[len(idx)-1] = i
			continue
		}
		idx, prev = append(idx, i), px
	}
	return idx
}

// niceStep rounds a raw tick step up to 1, 2, 2.5 or 5 times a power of
// ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// timeStep picks a tick interval that gives five to twelve ticks.
func timeStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
		5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if span/s <= 12 {
			return s
		}
	}
	return 24 * time.Hour
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func color(c, fallback string) string {
	if c == "" {
		return fallback
	}
	return html.EscapeString(c)
}
