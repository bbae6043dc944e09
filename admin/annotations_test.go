package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

func (f *fixture) annotations(query string) []annotationJSON {
	f.t.Helper()
	r := f.get("/api/v1/annotations" + query)
	if r.code != http.StatusOK {
		f.t.Fatalf("list annotations: %d %s", r.code, r.body)
	}
	var list struct{ Annotations []annotationJSON }
	if err := json.Unmarshal(r.body, &list); err != nil {
		f.t.Fatal(err)
	}
	return list.Annotations
}

func TestAnnotations(t *testing.T) {
	f := newFixture(t)
	r := f.write("POST", "/api/v1/annotations", `{"text": "kick-off", "tags": ["match"]}`)
	if r.code != http.StatusCreated {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	var kick annotationJSON
	if err := json.Unmarshal(r.body, &kick); err != nil {
		t.Fatal(err)
	}
	if kick.ID == "" || !kick.Time.Equal(t0) || kick.Text != "kick-off" || len(kick.Tags) != 1 || kick.Tags[0] != "match" {
		t.Errorf("annotation %+v", kick)
	}

	// Recorded to the decision log, so that a restart restores it.
	logged := f.journal.kind(health.DecisionAnnotation)
	if len(logged) != 1 || logged[0].Annotation == nil || logged[0].Annotation.ID != kick.ID || logged[0].Annotation.Text != "kick-off" {
		t.Fatalf("decision log: %+v", logged)
	}

	// A note dated earlier sorts before; one without tags lists an empty
	// list.
	early := t0.Add(-30 * time.Minute)
	r = f.write("POST", "/api/v1/annotations", `{"text": "doors open", "time": "`+early.Format(time.RFC3339)+`"}`)
	if r.code != http.StatusCreated {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	if !strings.Contains(string(r.body), `"tags":[]`) {
		t.Errorf("tags missing from %s", r.body)
	}
	f.clock.mu.Lock()
	f.clock.t = t0.Add(time.Minute)
	f.clock.mu.Unlock()
	if r := f.write("POST", "/api/v1/annotations", `{"text": "escalated to Fastly", "tags": ["incident", "fastly"]}`); r.code != http.StatusCreated {
		t.Fatalf("status %d: %s", r.code, r.body)
	}

	var texts []string
	for _, n := range f.annotations("") {
		texts = append(texts, n.Text)
	}
	if got := strings.Join(texts, "|"); got != "doors open|kick-off|escalated to Fastly" {
		t.Errorf("timeline %q", got)
	}
	texts = texts[:0]
	for _, n := range f.annotations("?since=" + url.QueryEscape(t0.Format(time.RFC3339))) {
		texts = append(texts, n.Text)
	}
	if got := strings.Join(texts, "|"); got != "kick-off|escalated to Fastly" {
		t.Errorf("since kick-off: %q", got)
	}
	if got := f.annotations("?since=" + url.QueryEscape(t0.Add(time.Hour).Format(time.RFC3339))); got == nil || len(got) != 0 {
		t.Errorf("since the future: %#v, want an empty list", got)
	}
}

func TestAnnotationRejected(t *testing.T) {
	tags := func(n, size int) string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf("%q", strings.Repeat("t", size-1)+fmt.Sprint(i%10)))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	for _, tc := range []struct {
		name, body string
		code       int
		field      string
	}{
		{"no text", `{"tags": ["match"]}`, 400, "text"},
		{"blank text", `{"text": "   "}`, 400, "text"},
		{"text too long", `{"text": "` + strings.Repeat("é", maxNoteText+1) + `"}`, 400, "text"},
		{"too many tags", `{"text": "t", "tags": ` + tags(maxNoteTags+1, 3) + `}`, 400, "tags"},
		{"tag too long", `{"text": "t", "tags": ` + tags(2, maxNoteTag+1) + `}`, 400, "tags[0]"},
		{"empty tag", `{"text": "t", "tags": ["a", ""]}`, 400, "tags[1]"},
		{"bad time", `{"text": "t", "time": "19:00"}`, 400, "time"},
		{"future time", `{"text": "t", "time": "` + t0.Add(time.Hour).Format(time.RFC3339) + `"}`, 400, "time"},
		{"unknown field", `{"text": "t", "author": "me"}`, 400, "author"},
		{"tags wrong type", `{"text": "t", "tags": "match"}`, 400, "tags"},
		{"bad JSON", `{"text": t}`, 400, ""},
		{"trailing garbage", `{"text": "t"}}`, 400, ""},
		{"oversized", `{"text": "` + strings.Repeat("t", maxBody) + `"}`, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			before := f.state()
			expectError(t, f.write("POST", "/api/v1/annotations", tc.body), tc.code, tc.field)
			f.unchanged(before)
			if got := f.annotations(""); len(got) != 0 {
				t.Errorf("annotations after a rejected request: %+v", got)
			}
		})
	}
}

func TestAnnotationLimitsAccepted(t *testing.T) {
	f := newFixture(t)
	body := fmt.Sprintf(`{"text": %q, "tags": [%s]}`, strings.Repeat("é", maxNoteText),
		strings.TrimSuffix(strings.Repeat(`"`+strings.Repeat("t", maxNoteTag)+`",`, maxNoteTags), ","))
	if r := f.write("POST", "/api/v1/annotations", body); r.code != http.StatusCreated {
		t.Fatalf("annotation at every limit: %d %s", r.code, r.body)
	}
}

func TestAnnotationsListRejected(t *testing.T) {
	f := newFixture(t)
	expectError(t, f.get("/api/v1/annotations?since=yesterday"), http.StatusBadRequest, "since")
	// An unencoded "+" arrives as a space; the error says so.
	r := f.get("/api/v1/annotations?since=2026-06-14T19:00:00+02:00")
	expectError(t, r, http.StatusBadRequest, "since")
	if !strings.Contains(r.json(t)["error"].(string), "%2B") {
		t.Errorf("no hint about +: %s", r.body)
	}
	expectError(t, f.get("/api/v1/annotations?from=x"), http.StatusBadRequest, "from")
	r = f.write("DELETE", "/api/v1/annotations", "")
	expectError(t, r, http.StatusMethodNotAllowed, "")
	if allow := r.header.Get("Allow"); allow != "GET, HEAD, POST" {
		t.Errorf("Allow %q", allow)
	}
}

// A restart restores the annotations the engine found in the decision
// log; the store keeps them in time order and within its bound.
func TestAnnotationsRestored(t *testing.T) {
	j := &memJournal{}
	e := health.NewEngine(testHealthConfig(), j)
	var log []health.Decision
	for i := range MaxAnnotations + 5 {
		// Logged out of order, as an operator may date a note earlier.
		at := t0.Add(time.Duration(MaxAnnotations+5-i) * time.Second)
		n := health.Annotation{ID: fmt.Sprint(i), Time: at, Text: fmt.Sprint("note ", i)}
		log = append(log, health.Decision{Time: t0, Kind: health.DecisionAnnotation, Annotation: &n})
	}
	notes := NewAnnotations(e.Restore(log, t0), j)
	got := notes.Since(time.Time{})
	if len(got) != MaxAnnotations {
		t.Fatalf("%d annotations kept, want %d", len(got), MaxAnnotations)
	}
	if got[0].Time.After(got[len(got)-1].Time) || got[len(got)-1].ID != "0" {
		t.Errorf("not oldest first, or the newest dropped: first %+v, last %+v", got[0], got[len(got)-1])
	}

	f := newFixture(t, func(c *Config) { c.Annotations = notes })
	if got := f.annotations(""); len(got) != MaxAnnotations {
		t.Errorf("API lists %d restored annotations", len(got))
	}
	if n := len(j.kind(health.DecisionAnnotation)); n != 0 {
		t.Errorf("restoring re-recorded %d annotations", n)
	}
}

func TestAnnotationsBounded(t *testing.T) {
	j := &memJournal{}
	notes := NewAnnotations(nil, j)
	for i := range MaxAnnotations + 3 {
		if _, err := notes.Add(health.Annotation{Text: fmt.Sprint(i)}, t0.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	got := notes.Since(time.Time{})
	if len(got) != MaxAnnotations || got[0].Text != "3" {
		t.Errorf("%d kept, first %q", len(got), got[0].Text)
	}
	if n := len(j.kind(health.DecisionAnnotation)); n != MaxAnnotations+3 {
		t.Errorf("%d recorded, want every one", n)
	}
}
