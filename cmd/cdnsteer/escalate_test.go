package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// alertSink stands in for Alertmanager's POST /api/v2/alerts and keeps
// the alerts posted, newest last.
type alertSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	alerts []sinkAlert
}

type sinkAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

func newAlertSink(t *testing.T) *alertSink {
	s := &alertSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var batch []sinkAlert
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/api/v2/alerts" || json.Unmarshal(body, &batch) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.alerts = append(s.alerts, batch...)
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// latest is the newest alert posted for escalation id.
func (s *alertSink) latest(id string) (sinkAlert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.alerts) - 1; i >= 0; i-- {
		if s.alerts[i].Annotations["escalation_id"] == id {
			return s.alerts[i], true
		}
	}
	return sinkAlert{}, false
}

func (s *alertSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.alerts)
}

type escalationItem struct {
	ID       string    `json:"id"`
	CDN      string    `json:"cdn"`
	Region   string    `json:"region"`
	Text     string    `json:"text"`
	Opened   time.Time `json:"opened"`
	Closed   time.Time `json:"closed"`
	Ended    string    `json:"ended"`
	State    string    `json:"state"`
	Policies []string  `json:"policies"`
}

// TestEscalationSurvivesRestart escalates through the API of a real
// server, sees the alert posted with the policy's labels, restarts the
// server on the same decision log, finds the escalation still open and
// posted again as the same alert, closes it, and sees it resolved.
func TestEscalationSurvivesRestart(t *testing.T) {
	sink := newAlertSink(t)
	shared := t.TempDir()
	logPath := filepath.Join(shared, "decisions.jsonl")
	tokenPath := filepath.Join(shared, "admin.token")
	if err := os.WriteFile(tokenPath, []byte(restartToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(restartPolicy, logPath, tokenPath) +
		fmt.Sprintf("\n[escalation]\nalertmanager = [%q]\nlabels = { team = \"video-ops\" }\n", sink.srv.URL)
	policy = strings.Replace(policy, "[server]\n", "[server]\nchaos_id = \"ns1\"\n", 1)

	var opened escalationItem
	t.Run("first run", func(t *testing.T) {
		s := startServe(t, policy)
		api := restartAPI{t, s.HTTP}
		api.do("POST", "/api/v1/escalations", map[string]string{"cdn": "akamai", "region": "kr", "text": "KR PoPs failing"}, false, http.StatusUnauthorized, nil)
		api.do("POST", "/api/v1/escalations", map[string]string{"cdn": "akamai", "region": "mars", "text": "x"}, true, http.StatusBadRequest, nil)
		api.do("POST", "/api/v1/escalations", map[string]string{"cdn": "akamai", "region": "kr", "text": "KR PoPs failing"}, true, http.StatusCreated, &opened)
		await(t, "the alert posted", 10*time.Second, func() bool { _, ok := sink.latest(opened.ID); return ok })
		a, _ := sink.latest(opened.ID)
		want := map[string]string{"alertname": "CDNSteeringEscalation", "cdn": "akamai", "region": "kr", "policy": "live", "instance": "ns1", "team": "video-ops"}
		if fmt.Sprint(a.Labels) != fmt.Sprint(want) || a.Annotations["text"] != "KR PoPs failing" || !a.EndsAt.After(time.Now()) {
			t.Errorf("alert %+v, want labels %v", a, want)
		}
		var metrics string
		await(t, "the alert counted as sent", 5*time.Second, func() bool {
			resp, err := http.Get("http://" + s.HTTP + "/metrics")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			metrics = string(b)
			return strings.Contains(metrics, fmt.Sprintf("cdnsteer_escalation_alerts_sent_total{alertmanager=%q} 1", sink.srv.URL))
		})
		if !strings.Contains(metrics, "cdnsteer_escalations_open 1") {
			t.Error("cdnsteer_escalations_open is not 1")
		}
	})
	if t.Failed() {
		return
	}
	before := sink.count()

	t.Run("second run", func(t *testing.T) {
		s := startServe(t, policy)
		api := restartAPI{t, s.HTTP}
		var list struct {
			Escalations []escalationItem `json:"escalations"`
		}
		api.do("GET", "/api/v1/escalations", nil, false, http.StatusOK, &list)
		if len(list.Escalations) != 1 || list.Escalations[0].ID != opened.ID || list.Escalations[0].State != "open" || !list.Escalations[0].Opened.Equal(opened.Opened) {
			t.Fatalf("after the restart: %+v, want %s open", list.Escalations, opened.ID)
		}
		await(t, "the alert posted again", 10*time.Second, func() bool { return sink.count() > before })
		if a, _ := sink.latest(opened.ID); !a.StartsAt.Equal(opened.Opened) || !a.EndsAt.After(time.Now()) {
			t.Errorf("after the restart the alert is %+v: want the same start, still firing", a)
		}
		var closed escalationItem
		api.do("DELETE", "/api/v1/escalations/"+opened.ID+"?reason=fixed", nil, true, http.StatusOK, &closed)
		await(t, "the alert resolved", 10*time.Second, func() bool {
			a, _ := sink.latest(opened.ID)
			return !a.EndsAt.After(time.Now())
		})
	})
	raw, _ := os.ReadFile(logPath)
	if n := strings.Count(string(raw), `"kind":"escalation"`); n != 1 {
		t.Errorf("%d escalation records in the decision log, want 1", n)
	}
	if n := strings.Count(string(raw), `"kind":"escalation_end"`); n != 1 {
		t.Errorf("%d escalation_end records in the decision log, want 1", n)
	}
}
