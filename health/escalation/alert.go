package escalation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// AlertName is the alertname of every escalation's alert, for routes and
// silences in Alertmanager.
const AlertName = "CDNSteeringEscalation"

// Alert is one alert as Alertmanager's API v2 takes it (its
// postableAlert): the labels identify it, so posting it again refreshes
// it rather than adding another.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alertOf is e as an alert ending at ends: a few resends ahead while e is
// open, its closing time once it is closed. instance is the default
// instance label, which the policy's labels may replace.
func alertOf(e *health.Escalation, instance string, extra map[string]string, generatorURL string, ends time.Time) Alert {
	labels := map[string]string{"instance": instance}
	for k, v := range extra {
		labels[k] = v
	}
	labels["alertname"] = AlertName
	labels["cdn"] = e.CDN
	labels["region"] = e.Region
	labels["policy"] = strings.Join(e.Policies, ",")
	if labels["instance"] == "" {
		// Alertmanager drops an empty label; "unknown" keeps the set whole.
		labels["instance"] = "unknown"
	}
	by := "an operator"
	if e.Auto {
		by = "cdnsteer, automatically"
	}
	ann := map[string]string{
		"summary":       fmt.Sprintf("%s in region %s escalated by %s", e.CDN, e.Region, by),
		"text":          e.Text,
		"who":           e.Who,
		"why":           e.Why,
		"escalation_id": e.ID,
	}
	if !e.Closed.IsZero() {
		ann["ended"] = e.Ended
	}
	return Alert{Labels: labels, Annotations: ann, StartsAt: e.Opened.UTC(), EndsAt: ends.UTC(), GeneratorURL: generatorURL}
}

// maxErrorBody bounds what is read of an error answer for the log.
const maxErrorBody = 1024

// post sends alerts to one Alertmanager's /api/v2/alerts. Any answer
// but 2xx is a failure: the caller retries the whole set, which
// Alertmanager takes again without harm.
func post(ctx context.Context, client *http.Client, endpoint string, alerts []Alert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cdnsteer")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// backoff is the wait after the n-th failed attempt in a row: a second,
// doubling up to limit, so that a restarting Alertmanager hears from us
// within seconds and one down for hours is asked twice a minute.
func backoff(n int, limit time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	if n > 30 {
		return limit
	}
	return min(firstBackoff<<(n-1), limit)
}
