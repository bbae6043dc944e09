package escalation

import (
	"fmt"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// TestTracksOnlyUnhealthyCDNs holds the manager's memory to the CDNs
// that are not healthy: a thousand healthy statuses reconciled leave
// nothing tracked, a degraded one is tracked until it is healthy again,
// and what step reads of it (the degradation's time) is kept meanwhile.
func TestTracksOnlyUnhealthyCDNs(t *testing.T) {
	m := New(Config{}, Options{})
	now := time.Date(2026, 6, 14, 19, 0, 0, 0, time.UTC)
	var statuses []health.CDNStatus
	for p := range 1000 {
		statuses = append(statuses, health.CDNStatus{Policy: fmt.Sprintf("p%d", p), Region: "kr", CDN: "fastly", Status: health.Healthy})
	}
	hc := health.Config{Regions: []string{"kr"}, CDNs: []health.CDNInfo{{Name: "fastly"}}}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reconcile(statuses, &hc, now)
	if n := len(m.statuses); n != 0 {
		t.Fatalf("%d CDNs tracked after 1,000 healthy statuses", n)
	}
	k := statusKey{"p7", "kr", "fastly"}
	m.observe(k, health.Degraded, now, "score 12")
	if tr := m.statuses[k]; len(m.statuses) != 1 || tr == nil || tr.status != health.Degraded || !tr.since.Equal(now) || tr.reason != "score 12" {
		t.Fatalf("degraded CDN tracked as %+v (%d tracked)", tr, len(m.statuses))
	}
	if m.healthy("fastly", "kr") {
		t.Fatal("fastly counted healthy in kr while degraded in p7")
	}
	statuses[7].Status, statuses[7].Since = health.Degraded, now
	m.reconcile(statuses, &hc, now.Add(30*time.Second))
	if tr := m.statuses[k]; len(m.statuses) != 1 || tr == nil || !tr.since.Equal(now) {
		t.Fatalf("a reconcile that agrees lost the degradation: %+v", tr)
	}
	m.observe(k, health.Healthy, now.Add(time.Minute), "")
	if len(m.statuses) != 0 || !m.healthy("fastly", "kr") {
		t.Fatalf("%d CDNs tracked once all are healthy", len(m.statuses))
	}
}
