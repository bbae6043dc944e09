package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// plansPolicy is restartPolicy with ttl 5, ttl_in_flux 2, a plan that
// pins KR to fastly, and the schedule given (a [[schedule]] or nothing).
// The evaluation interval is the one given: 10 s shows that a window
// begins and ends on a timer of its own, not on an evaluation.
func plansPolicy(logPath, tokenPath, eval, schedule string) string {
	p := fmt.Sprintf(restartPolicy, logPath, tokenPath)
	p = strings.Replace(p, "ttl = 5\nevaluation_interval = \"100ms\"", "ttl = 5\nttl_in_flux = 2\nevaluation_interval = \""+eval+"\"", 1)
	return p + `
[[plan]]
name = "akamai-kr-out"
description = "Akamai's Korean PoPs down: KR to fastly"
ttl = "1h"
overrides = [ { action = "pin", cdn = "fastly", region = "kr" } ]
` + schedule
}

// steeredTTL asks for the steered name from a KR subnet over UDP and
// returns the answer's TTL and CNAME target.
func steeredTTL(t *testing.T, addr string, subnet [4]byte) (uint32, string) {
	t.Helper()
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24,
		Address: netip.AddrFrom4(subnet).AsSlice()})
	r, _, err := c.Exchange(q, addr)
	if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("query: %v %v", r, err)
	}
	return r.Answer[0].Header().Ttl, r.Answer[0].(*dns.CNAME).Target
}

type planActivation struct {
	ID        string    `json:"id"`
	By        string    `json:"by"`
	Reason    string    `json:"reason"`
	Until     time.Time `json:"until"`
	Schedule  string    `json:"schedule"`
	Overrides []string  `json:"overrides"`
}

type plansAnswer struct {
	Plans []struct {
		Name        string           `json:"name"`
		Active      bool             `json:"active"`
		Activations []planActivation `json:"activations"`
	} `json:"plans"`
	Schedules []struct {
		Name  string `json:"name"`
		State string `json:"state"`
	} `json:"schedules"`
}

// TestRestartKeepsPlanActivation activates a plan through the API, stops
// the server and starts it again on the same decision log: the plan is
// still active with the same overrides, who, why and until, KR is still
// pinned, and ending the plan then ends its overrides.
func TestRestartKeepsPlanActivation(t *testing.T) {
	shared := t.TempDir()
	logPath, tokenPath := filepath.Join(shared, "decisions.jsonl"), filepath.Join(shared, "admin.token")
	if err := os.WriteFile(tokenPath, []byte(restartToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	policy := plansPolicy(logPath, tokenPath, "100ms", "")
	const subnets = 64
	var made struct {
		Activation string   `json:"activation"`
		IDs        []string `json:"ids"`
	}
	var before plansAnswer
	t.Run("first run", func(t *testing.T) {
		s := startServe(t, policy)
		api := restartAPI{t, s.HTTP}
		if c := cdnSpread(t, s.DNS[0], subnets, krSubnet); c["akamai"] == 0 {
			t.Fatalf("before the plan: %v", c)
		}
		api.do("POST", "/api/v1/plans/akamai-kr-out/activate", map[string]string{"reason": "KR PoPs failing"}, false, http.StatusUnauthorized, nil)
		api.do("POST", "/api/v1/plans/nope/activate", map[string]string{"reason": "x"}, true, http.StatusNotFound, nil)
		api.do("POST", "/api/v1/plans/akamai-kr-out/activate", map[string]string{"reason": "KR PoPs failing", "by": "mina", "ttl": "2h"}, true, http.StatusCreated, &made)
		if len(made.IDs) != 1 {
			t.Fatalf("activation: %+v", made)
		}
		await(t, "every KR subnet on fastly", 10*time.Second, func() bool { return cdnSpread(t, s.DNS[0], subnets, krSubnet)["fastly"] == subnets })
		api.do("GET", "/api/v1/plans", nil, false, http.StatusOK, &before)
	})
	if t.Failed() {
		return
	}
	raw, err := os.ReadFile(logPath)
	if err != nil || !bytes.Contains(raw, []byte(`"kind":"plan"`)) {
		t.Fatalf("decision log after the first run lacks the activation (%v):\n%s", err, raw)
	}
	t.Run("second run", func(t *testing.T) {
		s := startServe(t, policy)
		api := restartAPI{t, s.HTTP}
		var after plansAnswer
		api.do("GET", "/api/v1/plans", nil, false, http.StatusOK, &after)
		if len(after.Plans) != 1 || !after.Plans[0].Active || len(after.Plans[0].Activations) != 1 {
			t.Fatalf("plans after the restart: %+v", after)
		}
		a, b := after.Plans[0].Activations[0], before.Plans[0].Activations[0]
		// The legacy token file: one bare token, named "default".
		if a.ID != made.Activation || a.By != "default (mina)" || a.Reason != "KR PoPs failing" || !a.Until.Equal(b.Until) || strings.Join(a.Overrides, ",") != strings.Join(made.IDs, ",") {
			t.Errorf("activation after the restart %+v, before %+v", a, b)
		}
		if c := cdnSpread(t, s.DNS[0], subnets, krSubnet); c["fastly"] != subnets {
			t.Errorf("after the restart KR got %v, want all on fastly", c)
		}
		var ended struct{ Ended []string }
		api.do("DELETE", "/api/v1/plans/akamai-kr-out?reason=PoPs+back", nil, true, http.StatusOK, &ended)
		if strings.Join(ended.Ended, ",") != strings.Join(made.IDs, ",") {
			t.Errorf("ended %v, want %v", ended.Ended, made.IDs)
		}
		await(t, "KR back on both CDNs", 10*time.Second, func() bool {
			c := cdnSpread(t, s.DNS[0], subnets, krSubnet)
			return c["akamai"] > 0 && c["fastly"] > 0
		})
	})
}

// TestScheduleOnTimeAcrossRestart runs a window of a few seconds with a
// TTL of 3 and the plan, with evaluations 10 s apart: the window must
// begin and end within half a second of its times all the same. The
// server is restarted inside the window, which must still be in force
// after it, with its plan applied once.
func TestScheduleOnTimeAcrossRestart(t *testing.T) {
	shared := t.TempDir()
	logPath, tokenPath := filepath.Join(shared, "decisions.jsonl"), filepath.Join(shared, "admin.token")
	if err := os.WriteFile(tokenPath, []byte(restartToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(2 * time.Second).Truncate(time.Second)
	end := start.Add(5 * time.Second)
	policy := plansPolicy(logPath, tokenPath, "10s", fmt.Sprintf(`
[[schedule]]
name = "match"
start = %q
end = %q
ttl = 3
plan = "akamai-kr-out"
`, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)))
	const late = 500 * time.Millisecond
	kr := krSubnet(1)

	t.Run("before and into the window", func(t *testing.T) {
		s := startServe(t, policy)
		if ttl, _ := steeredTTL(t, s.DNS[0], kr); ttl != 5 || time.Now().After(start) {
			t.Fatalf("before the window: ttl %d (or the server started too late to tell)", ttl)
		}
		await(t, "the window's TTL and plan", time.Until(start)+5*time.Second, func() bool {
			ttl, target := steeredTTL(t, s.DNS[0], kr)
			return ttl == 3 && strings.HasPrefix(target, "fastly.")
		})
		if d := time.Since(start); d > late {
			t.Errorf("the window began %s after its start, with evaluations 10 s apart", d)
		}
	})
	t.Run("restarted inside the window", func(t *testing.T) {
		s := startServe(t, policy)
		if ttl, target := steeredTTL(t, s.DNS[0], kr); ttl != 3 || !strings.HasPrefix(target, "fastly.") {
			t.Errorf("right after the restart: ttl %d, %s", ttl, target)
		}
		var pl plansAnswer
		restartAPI{t, s.HTTP}.do("GET", "/api/v1/plans", nil, false, http.StatusOK, &pl)
		if len(pl.Plans[0].Activations) != 1 || pl.Plans[0].Activations[0].Schedule != "match" || pl.Schedules[0].State != "in_force" {
			t.Errorf("after the restart: %+v", pl)
		}
		if time.Now().After(end) {
			t.Fatal("the restart took the whole window")
		}
		await(t, "the window's end", time.Until(end)+5*time.Second, func() bool {
			ttl, _ := steeredTTL(t, s.DNS[0], kr)
			return ttl == 5
		})
		if d := time.Since(end); d > late {
			t.Errorf("the window ended %s after its end", d)
		}
		if c := cdnSpread(t, s.DNS[0], 64, krSubnet); c["akamai"] == 0 {
			t.Errorf("after the window KR is still pinned: %v", c)
		}
	})
	raw, _ := os.ReadFile(logPath)
	if n := bytes.Count(raw, []byte(`"kind":"schedule"`)); n != 1 {
		t.Errorf("%d schedule starts logged, want 1:\n%s", n, raw)
	}
	if n := bytes.Count(raw, []byte(`"kind":"schedule_end"`)); n != 1 {
		t.Errorf("%d schedule ends logged, want 1", n)
	}
}

// TestTTLInFluxReachesAnswers pushes failing signals for fastly: while it
// is degraded (and then recovering) the steered answers carry the policy's
// ttl_in_flux and explain says why; healthy again, the policy's ttl.
func TestTTLInFluxReachesAnswers(t *testing.T) {
	dir := t.TempDir()
	tokenPath := filepath.Join(dir, "admin.token")
	if err := os.WriteFile(tokenPath, []byte(restartToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, plansPolicy(filepath.Join(dir, "decisions.jsonl"), tokenPath, "100ms", ""))
	api := restartAPI{t, s.HTTP}
	push := func(cdn string, errRate float64) {
		body := fmt.Sprintf(`{"signals": [{"cdn": %q, "error_rate": %g, "ttfb_ms": 100, "samples": 1000}]}`, cdn, errRate)
		if code := apiCall(t, s.HTTP, "POST", "/api/v1/signals", restartToken, body, nil); code != http.StatusAccepted && code != http.StatusOK {
			t.Fatalf("push: %d", code)
		}
	}
	if ttl, _ := steeredTTL(t, s.DNS[0], krSubnet(1)); ttl != 5 {
		t.Fatalf("healthy: ttl %d, want 5", ttl)
	}
	await(t, "ttl_in_flux in the answers once fastly is degraded", 10*time.Second, func() bool {
		push("fastly", 1)
		push("akamai", 0)
		ttl, _ := steeredTTL(t, s.DNS[0], krSubnet(1))
		return ttl == 2
	})
	// Every region of the policy is in flux, not only KR.
	if ttl, _ := steeredTTL(t, s.DNS[0], [4]byte{192, 0, 2, 0}); ttl != 2 {
		t.Errorf("default region: ttl %d, want 2", ttl)
	}
	var ex struct {
		TTL      uint32 `json:"ttl"`
		TTLCause string `json:"ttl_cause"`
	}
	api.do("GET", "/api/v1/explain?name=stream.live.example.com&client=127.0.0.1&ecs=10.10.7.0/24", nil, false, http.StatusOK, &ex)
	if ex.TTL != 2 || !strings.HasPrefix(ex.TTLCause, "ttl_in_flux: fastly ") {
		t.Errorf("explain: %+v", ex)
	}
	await(t, "the policy's ttl once fastly is healthy again", 20*time.Second, func() bool {
		push("fastly", 0)
		push("akamai", 0)
		ttl, _ := steeredTTL(t, s.DNS[0], krSubnet(1))
		return ttl == 5
	})
}
