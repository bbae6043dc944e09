package admin

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/health/escalation"
)

// withEscalations gives the fixture an escalation manager with no
// Alertmanager: escalations are recorded and shown, sent nowhere.
func withEscalations(t *testing.T) (func(*Config), **escalation.Manager) {
	var m *escalation.Manager
	return func(cfg *Config) {
		m = escalation.New(escalation.Config{}, escalation.Options{Journal: cfg.Annotations.journal, Now: cfg.Now,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		done := m.Start(ctx, cfg.Engine)
		t.Cleanup(func() { cancel(); <-done })
		cfg.Escalations = m
	}, &m
}

type escalationsAnswer struct {
	Escalations []struct {
		health.Escalation
		State string `json:"state"`
	} `json:"escalations"`
	Alertmanagers []any `json:"alertmanagers"`
}

func TestEscalationsAPI(t *testing.T) {
	edit, m := withEscalations(t)
	f := newFixture(t, edit)
	list := func() escalationsAnswer {
		t.Helper()
		r := f.get("/api/v1/escalations")
		var a escalationsAnswer
		if r.code != http.StatusOK || json.Unmarshal(r.body, &a) != nil || a.Escalations == nil || a.Alertmanagers == nil {
			t.Fatalf("GET /api/v1/escalations = %d %s", r.code, r.body)
		}
		return a
	}
	if a := list(); len(a.Escalations) != 0 {
		t.Fatalf("escalations before any: %+v", a)
	}

	before, view := f.state(), (*m).View()
	for _, c := range []struct {
		body, token string
		code        int
		field       string
	}{
		{`{"cdn":"akamai","region":"kr","text":"x"}`, "", http.StatusUnauthorized, ""},
		{`{"cdn":"akamai","region":"kr","text":"x"}`, "wrong", http.StatusUnauthorized, ""},
		{`{"cdn":"nope","region":"kr","text":"x"}`, testToken, http.StatusBadRequest, "cdn"},
		{`{"cdn":"akamai","region":"mars","text":"x"}`, testToken, http.StatusBadRequest, "region"},
		{`{"cdn":"akamai","region":"kr"}`, testToken, http.StatusBadRequest, "text"},
		{`{"cdn":"akamai","region":"kr","text":"x","severity":"page"}`, testToken, http.StatusBadRequest, "severity"},
		{`{"cdn":"akamai","region":"kr","text":"` + strings.Repeat("x", 1001) + `"}`, testToken, http.StatusBadRequest, "text"},
		{`[]`, testToken, http.StatusBadRequest, ""},
	} {
		expectError(t, f.do("POST", "/api/v1/escalations", c.body, c.token), c.code, c.field)
	}
	f.unchanged(before)
	if after := (*m).View(); !reflect.DeepEqual(after, view) {
		t.Errorf("refused requests changed the escalations: %+v", after)
	}

	r := f.write("POST", "/api/v1/escalations", `{"cdn":"akamai","region":"kr","text":"KR PoPs failing: call Akamai"}`)
	var e health.Escalation
	if r.code != http.StatusCreated || json.Unmarshal(r.body, &e) != nil || e.ID == "" || e.CDN != "akamai" || e.Region != "kr" ||
		e.Text != "KR PoPs failing: call Akamai" || e.Who != testWriter || e.Auto || !e.Opened.Equal(t0) {
		t.Fatalf("POST = %d %s", r.code, r.body)
	}
	if ds := f.journal.kind(health.DecisionEscalation); len(ds) != 1 || ds[0].Escalation.ID != e.ID {
		t.Errorf("decision log: %+v", ds)
	}

	before = f.state()
	r = f.write("POST", "/api/v1/escalations", `{"cdn":"akamai","region":"kr","text":"again"}`)
	expectError(t, r, http.StatusConflict, "cdn")
	if !strings.Contains(string(r.body), e.ID) {
		t.Errorf("409 does not name the open escalation: %s", r.body)
	}
	expectError(t, f.write("DELETE", "/api/v1/escalations/nope", ""), http.StatusNotFound, "id")
	expectError(t, f.write("DELETE", "/api/v1/escalations/"+e.ID+"?why=x", ""), http.StatusBadRequest, "why")
	expectError(t, f.do("DELETE", "/api/v1/escalations/"+e.ID, "", ""), http.StatusUnauthorized, "")
	f.unchanged(before)
	if a := list(); len(a.Escalations) != 1 || a.Escalations[0].State != "open" || a.Escalations[0].ID != e.ID {
		t.Errorf("GET after opening: %+v", a)
	}

	r = f.write("DELETE", "/api/v1/escalations/"+e.ID+"?reason=Akamai+is+on+it", "")
	var closed health.Escalation
	if r.code != http.StatusOK || json.Unmarshal(r.body, &closed) != nil || closed.Ended != "closed by an operator: Akamai is on it (by "+testWriter+")" || closed.Closed.IsZero() {
		t.Fatalf("DELETE = %d %s", r.code, r.body)
	}
	if a := list(); len(a.Escalations) != 1 || a.Escalations[0].State != "closed" {
		t.Errorf("GET after closing: %+v", a)
	}
	if ds := f.journal.kind(health.DecisionEscalationEnd); len(ds) != 1 || ds[0].Escalation.ID != e.ID {
		t.Errorf("decision log: %+v", ds)
	}
	expectError(t, f.write("DELETE", "/api/v1/escalations/"+e.ID, ""), http.StatusNotFound, "id")
}

func TestEscalationsWithoutManager(t *testing.T) {
	f := newFixture(t)
	expectError(t, f.get("/api/v1/escalations"), http.StatusServiceUnavailable, "")
	expectError(t, f.write("POST", "/api/v1/escalations", `{"cdn":"akamai","region":"kr","text":"x"}`), http.StatusServiceUnavailable, "")
}
