package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	event "github.com/cdnsteer/cdnsteer/report"
)

// reportFlags are report's command line.
type reportFlags struct {
	logs               logFiles
	out                string
	promURL, from, to  string
	step               time.Duration
	config, scenario   string
	rehearsal          string
	delivered, viewers string
}

// report writes the post-event report of a decision log, with the
// event's traffic from Prometheus and a rehearsal's forecast when asked;
// report does the work.
func report(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f reportFlags
	fs.Var(&f.logs, "log", "decision log (JSON lines, as server.decision_log writes it); repeat it, one per instance of a fleet, for one merged timeline")
	fs.StringVar(&f.out, "o", "", "HTML file to write; the tables go beside it as NAME-TABLE.csv")
	fs.StringVar(&f.promURL, "prometheus", "", "Prometheus base URL: adds the event's traffic, billing, answers and QoE")
	fs.StringVar(&f.from, "from", "", "start of the event (RFC 3339 or Unix seconds; default: the log's first decision)")
	fs.StringVar(&f.to, "to", "", "end of the event (default: the log's last decision)")
	fs.DurationVar(&f.step, "step", 0, "range query step (default: 15s, 30s, 1m or 5m, the finest under 1000 points)")
	fs.StringVar(&f.config, "config", "", "the policy: commits, and its [prometheus] queries.throughput_gbps as the delivered query")
	fs.StringVar(&f.scenario, "scenario", "", "the rehearsal's scenario (with -config): billing terms ([cdn.NAME.billing]) and commits")
	fs.StringVar(&f.rehearsal, "rehearsal", "", "a `cdnsteer simulate` output directory: the forecast beside the event; alone, the same page for the rehearsal")
	fs.StringVar(&f.delivered, "delivered", "", "PromQL for delivered Gbit/s by cdn (and region) label (default: the policy's queries.throughput_gbps, else "+event.DefaultDelivered+")")
	fs.StringVar(&f.viewers, "viewers", "", "PromQL for viewers by cdn and region label (default "+event.DefaultViewers+")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (len(f.logs) == 0 && f.rehearsal == "") || f.out == "" {
		fmt.Fprintln(stderr, "cdnsteer report: -log FILE (or -rehearsal DIR) and -o FILE are required")
		return 2
	}
	if f.rehearsal != "" && len(f.logs) > 0 && f.promURL == "" {
		fmt.Fprintln(stderr, "cdnsteer report: -rehearsal with -log needs -prometheus for the actual traffic to set beside the forecast")
		return 2
	}
	if f.scenario != "" && f.config == "" {
		fmt.Fprintln(stderr, "cdnsteer report: -scenario needs -config, the policy it rehearses")
		return 2
	}
	ev, code := buildEvent(&f, stderr)
	if ev == nil {
		return code
	}
	doc := ev.Document()
	if err := writeReport(f.out, doc); err != nil {
		fmt.Fprintf(stderr, "cdnsteer report: %v\n", err)
		return 1
	}
	csvs, err := writeTables(f.out, doc)
	if err != nil {
		fmt.Fprintf(stderr, "cdnsteer report: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d decisions (%d lines skipped) → %s (+ %d CSV tables beside it)\n", len(ev.Decisions), ev.Skipped, f.out, len(csvs))
	if ev.Traffic != nil {
		for _, id := range []string{event.SecTraffic, event.SecBilling, event.SecAnswers, event.SecQoE, event.SecDegradations, event.SecForecast} {
			for _, why := range ev.Traffic.Missing[id] {
				fmt.Fprintf(stdout, "%s: missing: %s\n", id, why)
			}
		}
	}
	return 0
}

// readLogs reads and merges the decision logs; an empty log is reported
// by the caller, which knows whether anything else is usable.
func readLogs(logs []string, stderr io.Writer) ([]health.Decision, int, []string, bool) {
	var each [][]health.Decision
	skipped := 0
	for _, log := range logs {
		if _, err := os.Stat(log); err != nil {
			fmt.Fprintf(stderr, "cdnsteer report: %v\n", err)
			return nil, 0, nil, false
		}
		ds, sk, err := health.ReadJournal(log)
		if err != nil {
			fmt.Fprintf(stderr, "cdnsteer report: %v\n", err)
			return nil, 0, nil, false
		}
		each = append(each, ds)
		skipped += sk
	}
	return event.Merge(each...), skipped, event.PolicyNotes(logs, each), true
}

// logFiles is -log given once or more.
type logFiles []string

func (l *logFiles) String() string { return strings.Join(*l, ",") }

func (l *logFiles) Set(s string) error {
	*l = append(*l, s)
	return nil
}

func writeReport(path string, doc *event.Document) error {
	return writeFileWith(path, func(w io.Writer) error { return event.Render(w, doc) })
}

// writeTables writes each table of doc as PATH-ID.csv beside the page.
func writeTables(page string, doc *event.Document) ([]string, error) {
	base := strings.TrimSuffix(page, filepath.Ext(page))
	var out []string
	for _, t := range doc.Tables() {
		path := base + "-" + t.ID + ".csv"
		if err := writeFileWith(path, t.WriteCSV); err != nil {
			return out, err
		}
		out = append(out, path)
	}
	return out, nil
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	w := bufio.NewWriter(f)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write report: %w", cerr)
	}
	return err
}
