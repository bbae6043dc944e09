package admin

import (
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// stubExplain records its arguments and answers what it is told to.
type stubExplain struct {
	mu                sync.Mutex
	name, client, ecs string
	calls             int
	err               error
}

func (s *stubExplain) explain(name, client, ecs string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.name, s.client, s.ecs = name, client, ecs
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	return map[string]any{"name": name, "client": client, "region": "kr", "cdn": "fastly", "target": "live.fastly.example.net."}, nil
}

func TestExplain(t *testing.T) {
	stub := &stubExplain{}
	f := newFixture(t, func(c *Config) { c.Explain = stub.explain })
	r := f.get("/api/v1/explain?name=stream.live.example.com.&client=198.51.100.7&ecs=" + url.QueryEscape("203.0.113.0/24"))
	if r.code != http.StatusOK {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	if stub.name != "stream.live.example.com." || stub.client != "198.51.100.7" || stub.ecs != "203.0.113.0/24" {
		t.Errorf("passed %q %q %q", stub.name, stub.client, stub.ecs)
	}
	if m := r.json(t); m["cdn"] != "fastly" || m["region"] != "kr" {
		t.Errorf("answer %s", r.body)
	}
	// ecs is optional.
	if r := f.get("/api/v1/explain?name=stream&client=2001:db8::1"); r.code != http.StatusOK || stub.ecs != "" {
		t.Errorf("without ecs: %d, ecs %q", r.code, stub.ecs)
	}
}

func TestExplainRejected(t *testing.T) {
	stub := &stubExplain{}
	f := newFixture(t, func(c *Config) { c.Explain = stub.explain })
	for _, tc := range []struct{ query, field string }{
		{"client=192.0.2.1", "name"},
		{"name=stream", "client"},
		{"name=stream&client=192.0.2.1&region=kr", "region"},
		{"name=stream&name=other&client=192.0.2.1", "name"},
		{"name=stream&client=192.0.2.1&ecs=%zz", ""},
	} {
		expectError(t, f.get("/api/v1/explain?"+tc.query), http.StatusBadRequest, tc.field)
	}
	if stub.calls != 0 {
		t.Errorf("Explain called %d times for bad queries", stub.calls)
	}

	stub.err = &keyerr.Error{Key: "client", Msg: `"banana" is not an IP address`}
	r := f.get("/api/v1/explain?name=stream&client=banana")
	expectError(t, r, http.StatusBadRequest, "client")
	if msg := r.json(t)["error"]; msg != `client: "banana" is not an IP address` {
		t.Errorf("error %q", msg)
	}

	stub.err = errors.New("snapshot missing")
	expectError(t, f.get("/api/v1/explain?name=stream&client=192.0.2.1"), http.StatusInternalServerError, "")

	r = f.do("POST", "/api/v1/explain?name=stream&client=192.0.2.1", "{}", testToken)
	expectError(t, r, http.StatusMethodNotAllowed, "")
	if allow := r.header.Get("Allow"); allow != "GET, HEAD" {
		t.Errorf("Allow %q", allow)
	}
}

func TestExplainUnavailable(t *testing.T) {
	f := newFixture(t)
	expectError(t, f.get("/api/v1/explain?name=stream&client=192.0.2.1"), http.StatusServiceUnavailable, "")
}
