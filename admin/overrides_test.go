package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

func (f *fixture) overrides() []health.Override {
	f.t.Helper()
	r := f.get("/api/v1/overrides")
	if r.code != http.StatusOK {
		f.t.Fatalf("list overrides: %d %s", r.code, r.body)
	}
	var list struct{ Overrides []health.Override }
	if err := json.Unmarshal(r.body, &list); err != nil {
		f.t.Fatal(err)
	}
	return list.Overrides
}

func (f *fixture) status(region, cdn string) health.Status {
	f.t.Helper()
	for _, rv := range f.engine.View(f.clock.now()).Policies[0].Regions {
		for _, c := range rv.CDNs {
			if rv.Name == region && c.Name == cdn {
				return c.Status
			}
		}
	}
	f.t.Fatalf("no %s in %s", cdn, region)
	return ""
}

func TestOverrideLifecycle(t *testing.T) {
	f := newFixture(t)
	r := f.write("POST", "/api/v1/overrides", `{"action": "drain", "cdn": "akamai", "region": "kr", "policy": "", "ttl": "10m", "reason": "PoP issue"}`)
	if r.code != http.StatusCreated {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	var o health.Override
	if err := json.Unmarshal(r.body, &o); err != nil {
		t.Fatal(err)
	}
	if o.ID == "" || o.Action != "drain" || o.CDN != "akamai" || o.Region != "kr" || o.Reason != "PoP issue" ||
		!o.Expires.Equal(t0.Add(10*time.Minute)) || !o.Created.Equal(t0) {
		t.Fatalf("override %+v", o)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/overrides/"+o.ID {
		t.Errorf("Location %q", loc)
	}
	if got := f.overrides(); len(got) != 1 || got[0].ID != o.ID {
		t.Errorf("list %+v", got)
	}
	if s := f.status("kr", "akamai"); s != health.Drained {
		t.Errorf("akamai in kr is %s, want drained", s)
	}
	if s := f.status("default", "akamai"); s == health.Drained {
		t.Errorf("akamai drained outside kr")
	}
	if n := len(f.journal.kind(health.DecisionOverride)); n != 1 {
		t.Errorf("%d override decisions logged, want 1", n)
	}

	r = f.write("DELETE", "/api/v1/overrides/"+o.ID+"?reason=fixed", "")
	if r.code != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	if got := f.overrides(); len(got) != 0 {
		t.Errorf("still listed after delete: %+v", got)
	}
	ends := f.journal.kind(health.DecisionOverrideEnd)
	if len(ends) != 1 || !strings.Contains(ends[0].Reason, "fixed") {
		t.Errorf("override end not logged with the reason: %+v", ends)
	}
	if s := f.status("kr", "akamai"); s == health.Drained {
		t.Errorf("akamai still drained")
	}

	before := f.state()
	expectError(t, f.write("DELETE", "/api/v1/overrides/"+o.ID, ""), http.StatusNotFound, "id")
	f.unchanged(before)
}

func TestOverrideExpires(t *testing.T) {
	f := newFixture(t)
	exp := t0.Add(2 * time.Hour)
	r := f.write("POST", "/api/v1/overrides", `{"action": "freeze", "region": "kr", "expires": "`+exp.Format(time.RFC3339)+`", "reason": "kick-off"}`)
	if r.code != http.StatusCreated {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	var o health.Override
	if err := json.Unmarshal(r.body, &o); err != nil {
		t.Fatal(err)
	}
	if !o.Expires.Equal(exp) || o.Action != "freeze" {
		t.Errorf("override %+v", o)
	}
	// Once the clock passes the expiry it is gone.
	f.clock.mu.Lock()
	f.clock.t = exp
	f.clock.mu.Unlock()
	if got := f.overrides(); len(got) != 0 {
		t.Errorf("expired override still listed: %+v", got)
	}
}

func TestOverrideRejected(t *testing.T) {
	in := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	for _, tc := range []struct {
		name, body string
		code       int
		field      string
	}{
		{"unknown cdn", `{"action": "drain", "cdn": "x", "ttl": "10m", "reason": "r"}`, 400, "cdn"},
		{"unknown region", `{"action": "drain", "cdn": "akamai", "region": "mars", "ttl": "10m", "reason": "r"}`, 400, "region"},
		{"unknown policy", `{"action": "drain", "cdn": "akamai", "policy": "vod", "ttl": "10m", "reason": "r"}`, 400, "policy"},
		{"unknown action", `{"action": "nuke", "cdn": "akamai", "ttl": "10m", "reason": "r"}`, 400, "action"},
		{"no action", `{"cdn": "akamai", "ttl": "10m", "reason": "r"}`, 400, "action"},
		{"pin without region", `{"action": "pin", "cdn": "akamai", "ttl": "10m", "reason": "r"}`, 400, "region"},
		{"freeze with cdn", `{"action": "freeze", "cdn": "akamai", "ttl": "10m", "reason": "r"}`, 400, "cdn"},
		{"no reason", `{"action": "drain", "cdn": "akamai", "ttl": "10m"}`, 400, "reason"},
		{"reason too long", `{"action": "drain", "cdn": "akamai", "ttl": "10m", "reason": "` + strings.Repeat("r", maxReason+1) + `"}`, 400, "reason"},
		{"ttl and expires", `{"action": "drain", "cdn": "akamai", "ttl": "10m", "expires": "` + in(time.Hour) + `", "reason": "r"}`, 400, "expires"},
		{"neither ttl nor expires", `{"action": "drain", "cdn": "akamai", "reason": "r"}`, 400, "ttl"},
		{"ttl 0", `{"action": "drain", "cdn": "akamai", "ttl": "0s", "reason": "r"}`, 400, "ttl"},
		{"negative ttl", `{"action": "drain", "cdn": "akamai", "ttl": "-5m", "reason": "r"}`, 400, "ttl"},
		{"ttl not a duration", `{"action": "drain", "cdn": "akamai", "ttl": "10", "reason": "r"}`, 400, "ttl"},
		{"ttl over a week", `{"action": "drain", "cdn": "akamai", "ttl": "169h", "reason": "r"}`, 400, "ttl"},
		{"expired expires", `{"action": "drain", "cdn": "akamai", "expires": "` + in(-time.Minute) + `", "reason": "r"}`, 400, "expires"},
		{"expires now", `{"action": "drain", "cdn": "akamai", "expires": "` + in(0) + `", "reason": "r"}`, 400, "expires"},
		{"expires malformed", `{"action": "drain", "cdn": "akamai", "expires": "tomorrow", "reason": "r"}`, 400, "expires"},
		{"expires over a week", `{"action": "drain", "cdn": "akamai", "expires": "` + in(8*24*time.Hour) + `", "reason": "r"}`, 400, "expires"},
		{"ttl wrong type", `{"action": "drain", "cdn": "akamai", "ttl": 600, "reason": "r"}`, 400, "ttl"},
		{"unknown field", `{"action": "drain", "cdn": "akamai", "ttl": "10m", "reason": "r", "comment": "c"}`, 400, "comment"},
		{"bad JSON", `{"action": "drain" "cdn": "akamai"}`, 400, ""},
		{"trailing garbage", `{"action": "drain", "cdn": "akamai", "ttl": "10m", "reason": "r"}]`, 400, ""},
		{"oversized", `{"action": "drain", "cdn": "akamai", "ttl": "10m", "reason": "` + strings.Repeat("r", maxBody) + `"}`, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			before := f.state()
			expectError(t, f.write("POST", "/api/v1/overrides", tc.body), tc.code, tc.field)
			f.unchanged(before)
			if got := f.overrides(); len(got) != 0 {
				t.Errorf("override in force after a rejected request: %+v", got)
			}
		})
	}
}

func TestOverrideMethodsAndQuery(t *testing.T) {
	f := newFixture(t)
	r := f.write("POST", "/api/v1/overrides", `{"action": "drain", "cdn": "edgio", "ttl": "1h", "reason": "r"}`)
	if r.code != http.StatusCreated {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	id, _ := r.json(t)["id"].(string)
	before := f.state()

	r = f.write("PUT", "/api/v1/overrides", `{}`)
	expectError(t, r, http.StatusMethodNotAllowed, "")
	if allow := r.header.Get("Allow"); allow != "GET, HEAD, POST" {
		t.Errorf("Allow %q", allow)
	}
	r = f.write("GET", "/api/v1/overrides/"+id, "")
	expectError(t, r, http.StatusMethodNotAllowed, "")
	if allow := r.header.Get("Allow"); allow != "DELETE" {
		t.Errorf("Allow %q", allow)
	}
	expectError(t, f.write("DELETE", "/api/v1/overrides/"+id+"?reasn=typo", ""), http.StatusBadRequest, "reasn")
	expectError(t, f.write("DELETE", "/api/v1/overrides/"+id+"?reason="+strings.Repeat("r", maxReason+1), ""), http.StatusBadRequest, "reason")
	expectError(t, f.write("DELETE", "/api/v1/overrides/nope", ""), http.StatusNotFound, "id")
	f.unchanged(before)
	if got := f.overrides(); len(got) != 1 {
		t.Errorf("override gone after rejected deletes: %+v", got)
	}
}
