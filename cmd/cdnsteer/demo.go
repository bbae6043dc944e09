package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/cdnsteer/cdnsteer/admin"
	"github.com/cdnsteer/cdnsteer/demo/edges"
	"github.com/cdnsteer/cdnsteer/zones"
)

// demoPolicy is the demo's policy, a template for the parts only known
// at start (addresses, edge ports, probe timing).
//
//go:embed demo.toml
var demoPolicy string

var demoTemplate = template.Must(template.New("demo.toml").Option("missingkey=error").Parse(demoPolicy))

// demoCDNs are the demo policy's CDNs, each with a simulated edge.
var demoCDNs = []string{"akamai", "edgio", "fastly", "cloudfront"}

// demoConfig is what may differ between runs: the flags, and faster
// timing for tests.
type demoConfig struct {
	DNS, HTTP     string
	ProbeInterval time.Duration
	EvalInterval  time.Duration
	// Steering is the content steering listener ("" leaves it out) and
	// SteeringTTL its manifests' TTL in seconds.
	Steering    string
	SteeringTTL int
	// Player is the player site's address ("" runs no live stream and no
	// site); Players the node_modules folder with hls.js and dash.js.
	Player, Players string
	// Keep leaves the demo's folder (policy, token, decision log) behind.
	Keep bool
}

// demoRun is a running demo, as printed and as tests need it.
type demoRun struct {
	started
	// Token is the demo's write token ("operator"), ReadToken its read
	// token ("viewer"): both in the admin token file.
	Token     string
	ReadToken string
	Dir       string
	Edges     *edges.Fleet
	// Player is the player site's address, "" without one.
	Player string
}

func demo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := demoConfig{ProbeInterval: time.Second, EvalInterval: time.Second, SteeringTTL: 5}
	fs.StringVar(&cfg.DNS, "dns", "127.0.0.1:1053", "nameserver address, UDP and TCP (loopback only)")
	fs.StringVar(&cfg.HTTP, "http", "127.0.0.1:8080", "live view and API address (loopback only)")
	fs.StringVar(&cfg.Steering, "steering", "127.0.0.1:8054", "content steering listener for players (loopback only)")
	fs.StringVar(&cfg.Player, "player", "127.0.0.1:8081", "player pages and the live stream's manifests (loopback only)")
	fs.StringVar(&cfg.Players, "players", defaultPlayers(), "node_modules folder with the pinned hls.js and dash.js (npm ci in web/players); env CDNSTEER_PLAYERS")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the demo's folder (policy, token, decision log) when it stops")
	quiet := fs.Bool("quiet", false, "log warnings and errors only")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cdnsteer demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	for _, a := range []struct{ flag, addr string }{{"-dns", cfg.DNS}, {"-http", cfg.HTTP}, {"-steering", cfg.Steering}, {"-player", cfg.Player}} {
		if err := loopback(a.addr); err != nil {
			fmt.Fprintf(stderr, "cdnsteer demo: %s %s\n", a.flag, err)
			return 2
		}
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := runDemo(ctx, cfg, stdout, log, nil); err != nil {
		fmt.Fprintln(stderr, "cdnsteer demo:", err)
		return 1
	}
	return 0
}

// loopback refuses an address off loopback: the demo has a well-known
// token printed on screen and must not be reachable from elsewhere.
func loopback(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want IP:port, such as 127.0.0.1:1053", addr)
	}
	if !ap.Addr().IsLoopback() {
		return fmt.Errorf("%s: the demo listens on loopback only (127.0.0.1 or [::1])", addr)
	}
	return nil
}

// runDemo starts the edges, writes the policy and token to a fresh
// folder and serves until ctx ends, then stops the edges and removes the
// folder (unless cfg.Keep). up, if set, is called once everything runs.
func runDemo(ctx context.Context, cfg demoConfig, stdout io.Writer, log *slog.Logger, up func(demoRun)) error {
	dir, err := os.MkdirTemp("", "cdnsteer-demo-")
	if err != nil {
		return err
	}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	fleet, err := edges.StartFleet(demoCDNs, edges.Healthy)
	if err != nil {
		return err
	}
	defer fleet.Close()

	// Named tokens, as a real server has them: who drains a CDN is
	// recorded by the token's name.
	token, readToken := rand.Text(), rand.Text()
	tokens := "# name token role (see README: API tokens)\noperator " + token + " write\nviewer " + readToken + " read\n"
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte(tokens), 0o600); err != nil {
		return err
	}
	path := filepath.Join(dir, "demo.toml")
	if err := writeDemoPolicy(path, cfg, fleet); err != nil {
		return err
	}
	snap, err := zones.Load(path)
	if err != nil {
		return fmt.Errorf("the embedded demo policy does not load: %w", err)
	}
	players, err := startPlayers(ctx, cfg, dir, fleet, log)
	if err != nil {
		return err
	}
	defer players.stop()
	err = runServer(ctx, snap, log, func(s started) {
		run := demoRun{started: s, Token: token, ReadToken: readToken, Dir: dir, Edges: fleet, Player: players.addr()}
		players.steering(s.Steering)
		printDemo(stdout, run)
		players.print(stdout)
		if up != nil {
			up(run)
		}
	}, func(c *admin.Config) { c.Demo = fleet })
	if cfg.Keep {
		fmt.Fprintf(stdout, "cdnsteer demo stopped; its policy, token and decision log are in %s\n", dir)
	} else {
		fmt.Fprintln(stdout, "cdnsteer demo stopped (run it with -keep to keep its decision log)")
	}
	return err
}

func writeDemoPolicy(path string, cfg demoConfig, fleet *edges.Fleet) error {
	edges := map[string]string{}
	for _, e := range fleet.Edges() {
		edges[e.Name()] = e.URL()
	}
	var b strings.Builder
	err := demoTemplate.Execute(&b, map[string]any{
		"DNS": cfg.DNS, "HTTP": cfg.HTTP, "Edges": edges,
		"Steering": cfg.Steering, "SteeringTTL": cfg.SteeringTTL,
		"ProbeInterval": cfg.ProbeInterval.String(),
		// The probe's timeout stays within its interval, as the policy
		// requires, with room to spare.
		"ProbeTimeout": (cfg.ProbeInterval * 8 / 10).String(),
		"EvalInterval": cfg.EvalInterval.String(),
		"SignalMaxAge": (3 * cfg.ProbeInterval).String(),
	})
	if err != nil {
		return errors.New("demo policy template: " + err.Error())
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// printDemo tells a new user what runs where and what to try, with the
// real addresses and token filled in so every line can be pasted.
func printDemo(w io.Writer, r demoRun) {
	host, port, _ := net.SplitHostPort(r.DNS[0])
	web := "http://" + r.HTTP
	dig := fmt.Sprintf("dig @%s -p %s stream.live.example.com", host, port)
	auth := "-H 'Authorization: Bearer " + r.Token + "'"
	readAuth := "-H 'Authorization: Bearer " + r.ReadToken + "'"

	fmt.Fprintln(w, "cdnsteer demo: four simulated CDN edges, the nameserver and the live view, all on loopback.")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  live view\t%s/\n", web)
	fmt.Fprintf(tw, "  nameserver\t%s (UDP and TCP), zone live.example.com, steered name stream.live.example.com\n", strings.Join(r.DNS, ", "))
	fmt.Fprintf(tw, "  write token\t%s (operator: drains, pins, freezes, notes, the edges' knobs; recorded as who)\n", r.Token)
	fmt.Fprintf(tw, "  read token\t%s (viewer: the live view and the API's reads)\n", r.ReadToken)
	fmt.Fprintf(tw, "  \t(both in %s; the live view asks once and keeps it for the tab)\n", filepath.Join(r.Dir, "admin.token"))
	fmt.Fprintf(tw, "  policy\t%s\n", filepath.Join(r.Dir, "demo.toml"))
	fmt.Fprintf(tw, "  decision log\t%s\n", filepath.Join(r.Dir, "decisions.jsonl"))
	for i, e := range r.Edges.Edges() {
		label := ""
		if i == 0 {
			label = "edges"
		}
		fmt.Fprintf(tw, "  %s\t%-10s %s\n", label, e.Name(), e.URL())
	}
	tw.Flush()

	fmt.Fprintf(w, `
Try:
  # which CDN this resolver's viewers get
  %[1]s A +norec

  # a viewer in Korea (10.82.0.0/16 is the demo's kr network): kr's weights apply
  %[1]s A +norec +subnet=10.82.7.0/24

  # the spread over 200 client subnets: outside Korea, then in Korea
  for i in $(seq 0 199); do %[1]s +short +subnet=10.1.$i.0/24; done | sort | uniq -c
  for i in $(seq 0 199); do %[1]s +short +subnet=10.82.$i.0/24; done | sort | uniq -c

  # why a client gets its answer
  curl -s %[4]s '%[2]s/api/v1/explain?name=stream.live.example.com&client=10.82.7.1'

  # break fastly's edge (or press "down" in the live view's Demo edges panel),
  # run the spread again a few seconds later, then heal it
  curl -s %[3]s -d '{"error_rate":1}' %[2]s/api/v1/demo/edges/fastly
  curl -s %[3]s -d '{"error_rate":0}' %[2]s/api/v1/demo/edges/fastly

Ctrl-C stops the demo.
`, dig, web, auth, readAuth)
}
