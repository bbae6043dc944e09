package zones

import (
	"strings"
	"testing"
	"time"
)

// TestEscalationSection: [escalation] decodes into the escalation
// package's Config; each bad key is an error at its FILE:LINE, and a
// policy without the table has none.
func TestEscalationSection(t *testing.T) {
	s, err := Parse("p.toml", []byte(sectionBase))
	if err != nil || s.Escalation != nil {
		t.Fatalf("without [escalation]: %+v, %v", s.Escalation, err)
	}
	s, err = Parse("p.toml", []byte(sectionBase+"[escalation]\nalertmanager = [\"http://127.0.0.1:9093\"]\nafter = \"2m\"\nlabels = { team = \"video-ops\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e := s.Escalation; e == nil || strings.Join(e.Alertmanager, ",") != "http://127.0.0.1:9093" || e.After != 2*time.Minute || e.Labels["team"] != "video-ops" {
		t.Errorf("escalation = %+v", s.Escalation)
	}

	doc := sectionBase + "[escalation]\n" +
		"alertmanager = [\n" +
		"  \"http://127.0.0.1:9093\",\n" +
		"  \"ftp://127.0.0.1:9093\",\n" +
		"]\n" +
		"after = \"-1s\"\n" +
		"labels = { cdn = \"x\" }\n" +
		"page = true\n"
	_, err = Parse("p.toml", []byte(doc))
	got := ""
	if err != nil {
		got = err.Error()
	}
	want := strings.Join([]string{
		`p.toml:12: escalation.alertmanager[1]: "ftp://127.0.0.1:9093": scheme must be http or https`,
		`p.toml:16: escalation.after: -1s must be positive (or 0: escalate by hand only)`,
		`p.toml:17: escalation.labels.cdn: "cdn" is set by cdnsteer on every alert (alertname, cdn, region, policy)`,
		`p.toml:18: unknown key "escalation.page"`,
	}, "\n")
	if got != want {
		t.Errorf("errors\n%s\nwant\n%s", got, want)
	}
}
