package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// browserCue: what was degraded when the page opened raises no cue; a
// CDN that degrades afterwards puts "(1) …" in the tab's title and a
// "seen" button in the header, beeps when the operator switched the
// sound on (it is off until then), and leads the change feed; "seen"
// clears the cue.
func browserCue(t *testing.T, b *browser, f *fixtureRun) {
	t.Helper()
	b.wait("no cue for what was degraded at opening", `document.title === 'cdnsteer live view' && document.getElementById('attention-ack').hidden`)
	if on := eval[bool](b, `document.getElementById('sound-toggle').checked`); on {
		t.Error("the sound is on before anyone switched it on")
	}
	// The page's audio is counted, not played: the tone's start calls.
	b.step("counting the page's beeps", chromedp.Evaluate[chromedp.Void](`(() => {
		window.beeps = 0;
		window.AudioContext = class {
			constructor() { this.currentTime = 0; this.destination = {}; }
			createOscillator() { return { frequency: {}, connect: (g) => g, start: () => { window.beeps++; }, stop: () => {} }; }
			createGain() { return { gain: {}, connect: (d) => d }; }
		};
	})()`))
	b.step("switching the sound on", chromedp.Click(chromedp.CSS(`#sound-toggle`)))
	b.wait("one beep to say so", `window.beeps === 1`)

	f.fault("de", "fastly")
	b.wait("the title's cue", `document.title === '(1) de fastly degraded · cdnsteer live view' && !document.getElementById('attention-ack').hidden`)
	b.wait("two beeps for it", `window.beeps === 3`)
	b.wait("the degradation first in the change feed", `(() => {
		const li = document.querySelector('#feed li[data-kind]:not([hidden])');
		return li.dataset.kind === 'state' && li.dataset.region === 'de' && li.dataset.cdn === 'fastly' && /healthy → degraded/.test(li.textContent);
	})()`)
	b.step("marking it seen", chromedp.Click(chromedp.CSS(`#attention-ack`)))
	b.wait("the cue gone", `document.title === 'cdnsteer live view' && document.getElementById('attention-ack').hidden`)
	if n := eval[int](b, `window.beeps`); n != 3 {
		t.Errorf("%d beeps, want 3 (one on switching the sound on, two for the degradation)", n)
	}
}

// browserWall: #wall shows the overview alone, dark, in large type, and
// keeps the region filter of a deep link.
func browserWall(t *testing.T, b *browser) {
	t.Helper()
	b.step("wall mode", chromedp.Evaluate[chromedp.Void](`location.hash = 'wall'`), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.wait("the overview alone, dark, large", `(() => {
		const tile = document.querySelector('#overview .tile strong');
		return document.documentElement.classList.contains('wall') && document.getElementById('now').offsetParent === null &&
			document.getElementById('feed-section').offsetParent === null && document.getElementById('overview').offsetParent !== null &&
			getComputedStyle(document.body).backgroundColor === 'rgb(11, 14, 18)' && parseFloat(getComputedStyle(tile).fontSize) >= 24;
	})()`)
	if !eval[bool](b, noHScroll) {
		t.Errorf("wall mode: the page is %d px wide", eval[int](b, `document.documentElement.scrollWidth`))
	}
	b.shot("wall-1280")
	b.step("clicking a tile on the wall", chromedp.Click(chromedp.CSS(`#overview .tile[data-region="jp"]`)))
	b.wait("the filter in the address beside wall", `/(^#|&)wall(&|$)/.test(location.hash) && /region=jp/.test(location.hash) && document.documentElement.classList.contains('wall')`)
	b.step("leaving wall mode", chromedp.Evaluate[chromedp.Void](`location.hash = ''`))
	b.wait("the whole page again", `!document.documentElement.classList.contains('wall') && document.getElementById('now').offsetParent !== null`)
}
