package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// amToken is the admin bearer token of the Alertmanager test.
const amToken = "alertmanager-test-token-51c2"

// amPolicy: three CDNs the engine really probes, 100 ms evaluations, a
// CDN escalated by itself after one second degraded.
const amPolicy = `
[server]
dns = ["127.0.0.1:0"]
http = "127.0.0.1:0"
decision_log = "decisions.jsonl"
admin_token_file = %q
chaos_id = "ns1"

%s

[policy.live]
ttl = 5
evaluation_interval = "100ms"
signal_max_age = "1s"
up_after = 2
recovery_step = 0.5
[policy.live.region.default]
weights = { akamai = 40, edgio = 20, fastly = 40 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"

[escalation]
alertmanager = [%q]
after = "1s"
labels = { team = "video-ops" }
`

// amConfig routes every alert to a receiver that sends nothing: the test
// reads the alerts from Alertmanager's API.
const amConfig = `route:
  receiver: "null"
  group_wait: 1s
receivers:
  - name: "null"
`

// alertmanager is a real Alertmanager process on loopback that the test
// started (and alone stops).
type alertmanager struct {
	t    *testing.T
	bin  string
	addr string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

func (am *alertmanager) start() {
	am.t.Helper()
	cmd := exec.Command(am.bin, "--config.file="+filepath.Join(am.dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(am.dir, "data"), "--web.listen-address="+am.addr,
		"--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		am.t.Fatalf("starting %s: %v", am.bin, err)
	}
	am.cmd, am.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(am.done) }()
	awaitHTTP(am.t, "Alertmanager ready", "http://"+am.addr+"/-/ready", 20*time.Second)
}

// stop ends the process this test started: SIGTERM, then SIGKILL after
// 10 s.
func (am *alertmanager) stop() {
	if am.cmd == nil {
		return
	}
	am.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-am.done:
	case <-time.After(10 * time.Second):
		am.cmd.Process.Kill()
		<-am.done
	}
	am.cmd = nil
}

// amAlert is an alert as Alertmanager's GET /api/v2/alerts lists it.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// alerts lists Alertmanager's alerts named alertname; resolved alerts are
// not listed.
func (am *alertmanager) alerts() []amAlert {
	am.t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + am.addr + `/api/v2/alerts?filter=alertname%3D%22CDNSteeringEscalation%22`)
	if err != nil {
		am.t.Fatalf("GET /api/v2/alerts: %v", err)
	}
	defer resp.Body.Close()
	var out []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		am.t.Fatalf("GET /api/v2/alerts: %d %v", resp.StatusCode, err)
	}
	return out
}

// firing is the active alert for cdn, if Alertmanager has one.
func (am *alertmanager) firing(cdn string) (amAlert, bool) {
	for _, a := range am.alerts() {
		if a.Labels["cdn"] == cdn && a.Status.State == "active" {
			return a, true
		}
	}
	return amAlert{}, false
}

// listed tells whether Alertmanager lists an alert for cdn at all.
func (am *alertmanager) listed(cdn string) bool {
	for _, a := range am.alerts() {
		if a.Labels["cdn"] == cdn {
			return true
		}
	}
	return false
}

func awaitHTTP(t *testing.T, what, url string, limit time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	await(t, what, limit, func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// freeLoopbackPort is a TCP port on 127.0.0.1 that was free a moment ago.
func freeLoopbackPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAgainstRealAlertmanager runs the server against a real Alertmanager
// (Debian's prometheus-alertmanager; scripts/alertmanager-test.sh installs
// it and runs this test): an escalation by hand fires in Alertmanager with
// every label and resolves when closed; a CDN whose edge fails escalates
// by itself after [escalation] after and resolves when it is healthy
// again; with Alertmanager stopped the server keeps answering DNS and
// delivers the escalation made meanwhile once Alertmanager is back.
func TestAgainstRealAlertmanager(t *testing.T) {
	bin := os.Getenv("CDNSTEER_ALERTMANAGER")
	if bin == "" {
		t.Skip("set CDNSTEER_ALERTMANAGER to an Alertmanager binary to run this test, e.g. " +
			"CDNSTEER_ALERTMANAGER=/usr/bin/prometheus-alertmanager go test -run TestAgainstRealAlertmanager ./cmd/cdnsteer/ (or run scripts/alertmanager-test.sh)")
	}
	am := &alertmanager{t: t, bin: bin, addr: freeLoopbackPort(t), dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(am.dir, "alertmanager.yml"), []byte(amConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	am.start()
	t.Cleanup(am.stop)

	edges := map[string]*edge{}
	var cdns strings.Builder
	for _, name := range []string{"akamai", "edgio", "fastly"} {
		edges[name] = newEdge(t)
		fmt.Fprintf(&cdns, "[cdn.%s]\ntarget = \"%s.cdn.example.net.\"\n[cdn.%s.probe]\nurl = \"%s/seg.ts\"\ninterval = \"100ms\"\ntimeout = \"80ms\"\n",
			name, name, name, edges[name].srv.URL)
	}
	tokenPath := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(tokenPath, []byte(amToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, fmt.Sprintf(amPolicy, tokenPath, cdns.String(), "http://"+am.addr))
	api := func(method, path string, body any, want int, out any) {
		t.Helper()
		doc := ""
		if body != nil {
			b, _ := json.Marshal(body)
			doc = string(b)
		}
		if got := apiCall(t, s.HTTP, method, path, amToken, doc, out); got != want {
			t.Fatalf("%s %s = %d, want %d", method, path, got, want)
		}
	}

	// 1. By hand: fires with every label, resolves when closed.
	var manual escalationItem
	api("POST", "/api/v1/escalations", map[string]string{"cdn": "akamai", "region": "default", "text": "viewers report stalls on Akamai"}, http.StatusCreated, &manual)
	took := await(t, "akamai's alert firing in Alertmanager", 20*time.Second, func() bool { _, ok := am.firing("akamai"); return ok })
	t.Logf("escalation by hand firing in Alertmanager after %s", took)
	a, _ := am.firing("akamai")
	want := map[string]string{"alertname": "CDNSteeringEscalation", "cdn": "akamai", "region": "default", "policy": "live", "instance": "ns1", "team": "video-ops"}
	if fmt.Sprint(a.Labels) != fmt.Sprint(want) {
		t.Errorf("labels in Alertmanager %v, want %v", a.Labels, want)
	}
	// who is the token's name: a file holding one bare token names it "default".
	if a.Annotations["text"] != "viewers report stalls on Akamai" || a.Annotations["who"] != "default" || a.Annotations["escalation_id"] != manual.ID {
		t.Errorf("annotations in Alertmanager %v", a.Annotations)
	}
	api("DELETE", "/api/v1/escalations/"+manual.ID+"?reason=Akamai+confirmed", nil, http.StatusOK, nil)
	took = await(t, "akamai's alert resolved", 20*time.Second, func() bool { return !am.listed("akamai") })
	t.Logf("closed escalation resolved in Alertmanager after %s", took)

	// 2. By itself: fastly's edge fails, fastly is escalated after 1 s
	// degraded; healthy again, the alert resolves.
	edges["fastly"].failing.Store(true)
	took = await(t, "fastly escalated by itself", 20*time.Second, func() bool { _, ok := am.firing("fastly"); return ok })
	t.Logf("automatic escalation firing in Alertmanager %s after the edge started failing", took)
	if a, _ := am.firing("fastly"); a.Annotations["who"] != "cdnsteer" || a.Labels["policy"] != "live" || a.Labels["team"] != "video-ops" {
		t.Errorf("automatic alert in Alertmanager: %+v", a)
	}
	edges["fastly"].failing.Store(false)
	took = await(t, "fastly's alert resolved once it is healthy", 30*time.Second, func() bool { return !am.listed("fastly") })
	t.Logf("automatic escalation resolved %s after the edge recovered", took)

	// 3. Alertmanager down: DNS answers on, the escalation waits and is
	// delivered once Alertmanager is back.
	am.stop()
	var down escalationItem
	api("POST", "/api/v1/escalations", map[string]string{"cdn": "edgio", "region": "default", "text": "opened while Alertmanager is down"}, http.StatusCreated, &down)
	var view struct {
		Alertmanagers []struct {
			Failures  int    `json:"failures"`
			LastError string `json:"last_error"`
		} `json:"alertmanagers"`
	}
	await(t, "a failed delivery reported", 20*time.Second, func() bool {
		api("GET", "/api/v1/escalations", nil, http.StatusOK, &view)
		return len(view.Alertmanagers) == 1 && view.Alertmanagers[0].Failures >= 2
	})
	t.Logf("Alertmanager down: %d failed attempts, last error %q", view.Alertmanagers[0].Failures, view.Alertmanagers[0].LastError)
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	for i := range 50 {
		q := new(dns.Msg)
		q.SetQuestion("stream.live.example.com.", dns.TypeA)
		r, rtt, err := c.Exchange(q, s.DNS[0])
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("query %d with Alertmanager down: %v %v", i, r, err)
		}
		if rtt > 500*time.Millisecond {
			t.Errorf("query %d with Alertmanager down took %s", i, rtt)
		}
	}
	am.start()
	took = await(t, "the escalation made while Alertmanager was down delivered", 60*time.Second, func() bool { _, ok := am.firing("edgio"); return ok })
	t.Logf("delivered %s after Alertmanager came back", took)
	api("DELETE", "/api/v1/escalations/"+down.ID, nil, http.StatusOK, nil)
	await(t, "edgio's alert resolved", 20*time.Second, func() bool { return !am.listed("edgio") })
}
