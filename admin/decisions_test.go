package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

type feedAnswer struct {
	Decisions []health.Decision
	Kept      int
}

func (f *fixture) feed(query string) feedAnswer {
	f.t.Helper()
	r := f.get("/api/v1/decisions" + query)
	if r.code != http.StatusOK {
		f.t.Fatalf("GET /api/v1/decisions%s: %d %s", query, r.code, r.body)
	}
	var a feedAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		f.t.Fatalf("%v: %s", err, r.body)
	}
	return a
}

// TestDecisionFeedKeepsTheLast: the feed hands every decision on to the
// log, keeps the last few (not checkpoints), and answers the newest
// first, filtered by limit, policy, since and kind.
func TestDecisionFeedKeepsTheLast(t *testing.T) {
	log := &memJournal{}
	feed := NewDecisionFeed(log, 5)
	f := newFixture(t, func(c *Config) { c.Decisions = feed })
	for i := range 8 {
		kind, policy := health.DecisionState, "live"
		switch i {
		case 5:
			kind = health.DecisionCheckpoint
		case 6:
			kind, policy = health.DecisionAnnotation, ""
		case 7:
			kind, policy = health.DecisionWeights, "other"
		}
		feed.Record(health.Decision{Time: t0.Add(time.Duration(i) * time.Second), Kind: kind, Policy: policy, CDN: fmt.Sprint("cdn", i)})
	}
	if n := len(log.all()); n != 8 {
		t.Errorf("the log behind the feed got %d decisions, want all 8", n)
	}
	a := f.feed("")
	got := ""
	for _, d := range a.Decisions {
		got += d.CDN + " "
	}
	// Kept: 2, 3, 4, 6, 7 (0 and 1 pushed out, 5 a checkpoint).
	if got != "cdn7 cdn6 cdn4 cdn3 cdn2 " || a.Kept != 5 {
		t.Errorf("feed %q (kept %d), want cdn7 cdn6 cdn4 cdn3 cdn2, 5 kept", got, a.Kept)
	}
	if a := f.feed("?limit=2"); len(a.Decisions) != 2 || a.Decisions[0].CDN != "cdn7" {
		t.Errorf("limit=2: %+v", a.Decisions)
	}
	// policy=live: its own and those of no policy, not other's.
	if a := f.feed("?policy=live"); len(a.Decisions) != 4 || a.Decisions[0].CDN != "cdn6" {
		t.Errorf("policy=live: %+v", a.Decisions)
	}
	if a := f.feed("?since=" + url.QueryEscape(t0.Add(3*time.Second).Format(time.RFC3339))); len(a.Decisions) != 3 || a.Decisions[2].CDN != "cdn4" {
		t.Errorf("since +3 s: %+v", a.Decisions)
	}
	if a := f.feed("?kind=weights,annotation"); len(a.Decisions) != 2 {
		t.Errorf("kind=weights,annotation: %+v", a.Decisions)
	}
}

func TestDecisionFeedBadRequests(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Decisions = NewDecisionFeed(nil, 10) })
	for _, c := range []struct{ query, field string }{
		{"?limit=0", "limit"}, {"?limit=501", "limit"}, {"?limit=ten", "limit"}, {"?limit=", "limit"},
		{"?policy=nope", "policy"}, {"?since=yesterday", "since"}, {"?kind=State", "kind"}, {"?kind=state,", "kind"},
		{"?lmit=5", "lmit"},
	} {
		t.Run(c.query, func(t *testing.T) { expectError(t, f.get("/api/v1/decisions"+c.query), http.StatusBadRequest, c.field) })
	}
	expectError(t, f.do("POST", "/api/v1/decisions", "{}", testToken), http.StatusMethodNotAllowed, "")
	if r := f.do("GET", "/api/v1/decisions", "", ""); r.code != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401 (reads need a token)", r.code)
	}
	// Without a feed the endpoint says so.
	g := newFixture(t)
	expectError(t, g.get("/api/v1/decisions"), http.StatusServiceUnavailable, "")
}
