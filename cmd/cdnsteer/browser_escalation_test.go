package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserEscalate escalates fastly in kr from its row in the live view
// (a note is required), sees the escalation listed, its row's button
// turned to Escalated, the escalation on the timeline and in the API, and
// closes it from the list. The demo has no Alertmanager: the page says
// the escalation is recorded only.
func browserEscalate(t *testing.T, run demoRun, step func(string, ...chromedp.Action[chromedp.Void]), wait func(string, string)) {
	t.Helper()
	const btn = `#regions tr[data-region="kr"][data-cdn="fastly"] button[data-act="escalate"]`
	const listed = `#escalations tr[data-state="open"][data-cdn="fastly"][data-region="kr"]`
	text := "fastly KR degraded: please call Fastly"
	step("clicking Escalate", chromedp.Click(chromedp.CSS(btn)))
	wait("the escalation dialog", `document.getElementById('action-dialog').open && /Escalate fastly in region kr/.test(document.getElementById('action-title').textContent)`)
	wait("the note required", `document.getElementById('f-text').required`)
	step("writing the note and escalating", chromedp.SendKeys(chromedp.CSS(`#f-text`), text), chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("the escalation listed as open, by the write token's name", `[...document.querySelectorAll('`+listed+` td')].some((td) => td.textContent === 'operator')`)
	wait("the row's button says Escalated", `(() => { const b = document.querySelector('`+btn+`'); return b.disabled && b.textContent === 'Escalated'; })()`)
	wait("the escalation on the timeline", fmt.Sprintf(`[...document.querySelectorAll('#notes li .text')].some((e) => e.textContent === %q)`, "Escalated fastly in region kr: "+text))
	wait("no Alertmanager said", `document.querySelector('#escalations p.muted').textContent.includes('no Alertmanager configured')`)

	var list struct {
		Escalations []struct {
			ID, CDN, Region, Text, State, Ended, Who string
		}
	}
	api(t, run, "GET", "/api/v1/escalations", "", "", &list)
	if len(list.Escalations) != 1 || list.Escalations[0].CDN != "fastly" || list.Escalations[0].Region != "kr" ||
		list.Escalations[0].Text != text || list.Escalations[0].State != "open" || list.Escalations[0].Who != "operator" {
		t.Fatalf("GET /api/v1/escalations after Escalate in the page: %+v", list.Escalations)
	}

	// Closing asks for a reason, none filled in: OK without one closes
	// nothing.
	step("clicking Close", chromedp.Click(chromedp.CSS(listed+` button[data-id]`)))
	wait("the close dialog, no reason filled in", `document.getElementById('action-dialog').open && document.getElementById('f-reason').value === '' && document.getElementById('f-reason').required`)
	step("confirming without a reason", chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("the dialog still open", `document.getElementById('action-dialog').open && document.getElementById('f-reason').matches(':invalid')`)
	step("giving a reason and closing", chromedp.SendKeys(chromedp.CSS(`#f-reason`), "Fastly on it"), chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("the escalation listed as closed", `!!document.querySelector('#escalations tr[data-state="closed"][data-cdn="fastly"]')`)
	wait("the row's button back to Escalate", `!document.querySelector('`+btn+`').disabled`)
	api(t, run, "GET", "/api/v1/escalations", "", "", &list)
	if len(list.Escalations) != 1 || list.Escalations[0].State != "closed" || !strings.HasSuffix(list.Escalations[0].Ended, ": Fastly on it (by operator)") {
		t.Errorf("GET /api/v1/escalations after Close in the page: %+v", list.Escalations)
	}
}
