package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserCharts works the charts of the scale fixture: they open on the
// worst region with a window that fits the data; hovering one chart puts
// the crosshair, with every CDN's value, on all; a drag zooms all and a
// double click zooms back out; the 30 notes are labelled in clusters and
// filtered by tag; a drain is a shaded span on the region's charts; the
// axes have units.
func browserCharts(t *testing.T, b *browser) {
	t.Helper()
	b.step("to the charts", chromedp.Evaluate[chromedp.Void](`document.getElementById('charts-section').scrollIntoView()`))
	b.wait("the charts on the worst region, us, fitting the data", `document.querySelector('#chart-regions button[aria-pressed="true"]')?.textContent === 'us' &&
		/^Since \d\d:\d\d:\d\d UTC/.test(document.getElementById('charts-h').textContent)`)
	// The first sample is at the left edge, not a sliver at the right.
	left := eval[float64](b, `parseFloat(document.querySelector('#charts svg path.area[d^="M"]').getAttribute('d').slice(1))`)
	if left > 120 {
		t.Errorf("the first sample is drawn at x=%.0f: the window does not fit the data", left)
	}
	b.wait("units on the axes", `[...document.querySelectorAll('#charts figure:not([hidden]) svg text.unit')].map((e) => e.textContent).join(',').startsWith('%,score,,ms,%,%')`)

	// The crosshair: hovering the share chart shows the time on every chart.
	b.step("hovering the first chart", chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.querySelector('#charts svg'); const r = s.getBoundingClientRect();
		s.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + r.width * 0.6, clientY: r.top + 60, bubbles: true }));
	})()`))
	b.wait("the crosshair and values on every chart", `(() => {
		const figs = [...document.querySelectorAll('#charts figure:not([hidden])')];
		return figs.length >= 5 && figs.every((f) => f.querySelector('line.cursor').getAttribute('visibility') === 'visible' &&
			f.querySelector('g.tip').getAttribute('visibility') === 'visible') &&
			[...figs[0].querySelectorAll('g.tip text')].filter((e) => e.getAttribute('visibility') === 'visible').length === 7;
	})()`)
	tip := eval[string](b, `[...document.querySelectorAll('#charts figure')[3].querySelectorAll('g.tip text')].map((e) => e.textContent).join(' | ')`)
	if !strings.Contains(tip, "fastly  1500 ms") || !strings.Contains(tip, "UTC") {
		t.Errorf("the TTFB chart's crosshair box says %q, want fastly's 1500 ms at a UTC time", tip)
	}

	// Drag across the share chart: every chart zooms to that range.
	b.step("dragging across the first chart", chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.querySelector('#charts svg'); const r = s.getBoundingClientRect(); const y = r.top + 60;
		s.dispatchEvent(new PointerEvent('pointerdown', { clientX: r.left + r.width * 0.3, clientY: y, button: 0, pointerId: 1, bubbles: true }));
		s.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + r.width * 0.7, clientY: y, pointerId: 1, bubbles: true }));
		s.dispatchEvent(new PointerEvent('pointerup', { clientX: r.left + r.width * 0.7, clientY: y, button: 0, pointerId: 1, bubbles: true }));
	})()`))
	b.wait("the charts zoomed", `document.getElementById('charts-h').textContent === 'Zoomed' && !document.getElementById('zoom-reset').hidden &&
		/^zoomed to \d\d:\d\d:\d\d UTC – \d\d:\d\d:\d\d UTC/.test(document.getElementById('zoom-reset').textContent)`)
	b.step("double-clicking a chart", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#charts svg')[1].dispatchEvent(new MouseEvent('dblclick', { bubbles: true }))`))
	b.wait("back to live", `document.getElementById('zoom-reset').hidden && document.getElementById('charts-h').textContent.startsWith('Since')`)

	// 30 notes: each a line, labelled in clusters that do not overlap.
	b.wait("30 notes marked and labelled", `(() => {
		const s = document.querySelector('#charts svg');
		const labels = [...s.querySelectorAll('g.note-label[visibility="visible"]')];
		const boxes = labels.map((g) => g.querySelector('rect')).map((r) => [parseFloat(r.getAttribute('x')), parseFloat(r.getAttribute('x')) + parseFloat(r.getAttribute('width'))]).sort((a, b) => a[0] - b[0]);
		return s.querySelectorAll('g.note[visibility="visible"]').length === 30 && labels.length >= 2 &&
			boxes.every((bx, i) => i === 0 || bx[0] >= boxes[i - 1][1] - 0.5) &&
			labels.map((g) => g.querySelector('text').textContent).reduce((n, l) => n + (/^\d+ notes$/.test(l) ? parseInt(l) : 1), 0) === 30;
	})()`)
	b.step("moving the pointer away", chromedp.Evaluate[chromedp.Void](`document.querySelector('#charts svg').dispatchEvent(new PointerEvent('pointerleave'))`))
	b.shotOf("chart-notes", `#charts figure`)
	b.step("only the notes tagged cdn", chromedp.SetValue(chromedp.CSS(`#note-tag`), "cdn"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('note-tag').dispatchEvent(new Event('change'))`))
	b.wait("10 notes marked", `document.querySelector('#charts svg').querySelectorAll('g.note[visibility="visible"]').length === 10`)
	b.step("all notes again", chromedp.SetValue(chromedp.CSS(`#note-tag`), ""),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('note-tag').dispatchEvent(new Event('change'))`))

	// kr's drain of akamai shades its charts.
	b.step("charts of kr", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#chart-regions button')].find((e) => e.textContent === 'kr').click()`))
	b.wait("the drain shaded and named", `document.querySelector('#chart-regions button[aria-pressed="true"]').textContent === 'kr' &&
		[...document.querySelector('#charts svg').querySelectorAll('g.span.drain[visibility="visible"] text')].some((e) => e.textContent === 'akamai drained in region kr of policy live')`)
}

// browserCappedAxis draws a chart of 200 samples with one spike of
// 10,000 ms into the page: the axis is capped near the rest (not
// stretched to 10,000) and the spike is marked as clipped.
func browserCappedAxis(t *testing.T, b *browser) {
	t.Helper()
	type capped struct {
		Top     string
		Clipped bool
		Title   string
	}
	c, err := chromedp.Run(b.ctx, chromedp.Evaluate[capped](`(async () => {
		const { Chart } = await import('/ui/charts.js');
		const box = document.createElement('div');
		box.style.width = '600px';
		document.body.append(box);
		const c = new Chart(box, { title: 'spike', unit: 'ms', format: (v) => Math.round(v) + ' ms' });
		const times = [...Array(200).keys()].map((i) => 1.7e12 + i * 1000);
		const values = times.map((t, i) => (i === 100 ? 10000 : 80 + (i % 10)));
		c.draw({ times, t0: times[0], t1: times[199], gapMs: 5000, series: [{ name: 'a', colour: '#000', values }], notes: [], spans: [] });
		const labels = [...box.querySelectorAll('svg text[text-anchor="end"]')].map((e) => e.textContent);
		const clip = box.querySelector('path.clipped');
		const out = { Top: labels[labels.length - 1], Clipped: !!clip && clip.getAttribute('d').length > 0, Title: clip ? clip.textContent : '' };
		box.remove();
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("drawing a chart with a spike: %v", err)
	}
	if c.Top != "200 ms" || !c.Clipped || !strings.Contains(c.Title, "10000 ms") {
		t.Errorf("a spike of 10000 ms over 80-89 ms: the axis tops at %q, clipped marked %v (%q); want 200 ms and the spike marked", c.Top, c.Clipped, c.Title)
	}
}
