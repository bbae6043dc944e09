package admin

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
)

// The live view builds its columns and charts from this answer: every
// kind, in table order, with what it needs to show one.
func TestKinds(t *testing.T) {
	f := newFixture(t)
	r := f.get("/api/v1/kinds")
	if r.code != http.StatusOK {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	var got struct {
		Kinds []struct {
			Key, Label, Unit string
			ShortLabel       string   `json:"short_label"`
			Sources          []string `json:"sources"`
			PerCommit        bool     `json:"per_commit"`
		} `json:"kinds"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range got.Kinds {
		keys = append(keys, k.Key)
		if k.Label == "" || k.ShortLabel == "" || k.Unit == "" || len(k.Sources) == 0 {
			t.Errorf("kind %s lacks what the live view shows: %+v", k.Key, k)
		}
		if k.PerCommit != (k.Key == "throughput_gbps") {
			t.Errorf("kind %s: per_commit %v", k.Key, k.PerCommit)
		}
	}
	var want []string
	for _, k := range health.Kinds() {
		want = append(want, k.Key)
	}
	if len(want) < 5 || want[0] != "ttfb_ms" {
		t.Fatalf("the kinds table starts %v", want)
	}
	if len(keys) != len(want) {
		t.Fatalf("kinds %v, want %v", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("kinds %v, want %v", keys, want)
		}
	}
	expectError(t, f.get("/api/v1/kinds?x=1"), http.StatusBadRequest, "x")
	expectError(t, f.do("POST", "/api/v1/kinds", "{}", testToken), http.StatusMethodNotAllowed, "")
}
