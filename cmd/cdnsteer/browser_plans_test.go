package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserPlans works the Plans panel of the demo's live view in the
// browser test: Activate on the demo's plan (confirmed with a reason; the
// token is already kept), the plan's drain among the overrides and in the
// API, the activation on the timeline, then End.
func browserPlans(t *testing.T, run demoRun, step func(string, ...chromedp.Action[chromedp.Void]), wait func(string, string)) {
	t.Helper()
	const plan = `#plans tr[data-plan="akamai-kr-out"]`
	reason := "rehearsal: Akamai KR PoPs down"
	wait("the demo's plan listed, not active", `(() => { const r = document.querySelector('`+plan+`'); return !!r && r.dataset.active === 'false'; })()`)
	wait("the match schedule shown", `!!document.querySelector('#schedules p')`)
	step("clicking Activate", chromedp.Click(chromedp.CSS(plan+` button[data-act="activate"]`)))
	wait("the confirmation dialog", `document.getElementById('action-dialog').open && /Activate plan akamai-kr-out/.test(document.getElementById('action-title').textContent)`)
	step("giving a reason and confirming", chromedp.SendKeys(chromedp.CSS(`#f-reason`), reason), chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("the plan's drain among the overrides", `!!document.querySelector('#overrides tr[data-action="drain"]')`)
	wait("akamai drained in kr", `document.querySelector('#regions tr[data-region="kr"][data-cdn="akamai"] td.status').textContent === 'drained'`)
	wait("the plan shown active with its reason", `(() => { const r = document.querySelector('`+plan+`'); return r.dataset.active === 'true' && r.querySelector('td.plan-status').textContent.includes(`+fmt.Sprintf("%q", reason)+`); })()`)
	wait("the activation on the timeline, by the write token's name", `[...document.querySelectorAll('#notes li .text')].some((e) => e.textContent.startsWith('plan akamai-kr-out activated by operator: '))`)

	var ovs struct {
		Overrides []struct {
			Action, CDN, Region, Reason, By string
			Plan                            *struct{ Name, By string }
		}
	}
	api(t, run, "GET", "/api/v1/overrides", "", "", &ovs)
	if len(ovs.Overrides) != 1 || ovs.Overrides[0].Plan == nil || ovs.Overrides[0].Plan.Name != "akamai-kr-out" || ovs.Overrides[0].Reason != reason ||
		ovs.Overrides[0].CDN != "akamai" || ovs.Overrides[0].Region != "kr" || ovs.Overrides[0].By != "operator" || ovs.Overrides[0].Plan.By != "operator" {
		t.Errorf("overrides after Activate in the page: %+v", ovs.Overrides)
	}
	if got := cdnSpread(t, run.DNS[0], 50, korea); got["akamai"] != 0 {
		t.Errorf("the plan drains akamai in kr; DNS answers %v", got)
	}

	// Ending asks for a reason too: none is filled in, and OK without one
	// ends nothing.
	step("clicking End", chromedp.Click(chromedp.CSS(plan+` button[data-act="end"]`)))
	wait("the end dialog, no reason filled in", `document.getElementById('action-dialog').open && document.getElementById('f-reason').value === '' && document.getElementById('f-reason').required`)
	step("confirming without a reason", chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("the dialog still open", `document.getElementById('action-dialog').open && document.getElementById('f-reason').matches(':invalid')`)
	step("giving a reason and ending", chromedp.SendKeys(chromedp.CSS(`#f-reason`), "rehearsal over"), chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("the plan no longer active", `document.querySelector('`+plan+`').dataset.active === 'false'`)
	wait("the overrides list empty again", `document.querySelectorAll('#overrides tr[data-action]').length === 0`)
	wait("the end on the timeline with its reason", `[...document.querySelectorAll('#notes li .text')].some((e) => e.textContent === 'plan akamai-kr-out ended: rehearsal over (by operator)')`)
	var pl struct{ Plans []struct{ Active bool } }
	if code := api(t, run, "GET", "/api/v1/plans", "", "", &pl); code != http.StatusOK || len(pl.Plans) != 1 || pl.Plans[0].Active {
		t.Errorf("GET /api/v1/plans after End in the page: %d %+v", code, pl)
	}
}
