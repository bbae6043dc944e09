package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cdnsteer/cdnsteer/health"
	event "github.com/cdnsteer/cdnsteer/report"
)

// report writes the post-event report of a decision log; report
// does the work.
func report(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var logs logFiles
	fs.Var(&logs, "log", "decision log (JSON lines, as server.decision_log writes it); repeat it, one per instance of a fleet, for one merged timeline")
	out := fs.String("o", "", "HTML file to write")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(logs) == 0 || *out == "" {
		fmt.Fprintln(stderr, "cdnsteer report: -log FILE and -o FILE are required")
		return 2
	}
	var each [][]health.Decision
	skipped := 0
	for _, log := range logs {
		if _, err := os.Stat(log); err != nil {
			fmt.Fprintf(stderr, "cdnsteer report: %v\n", err)
			return 1
		}
		ds, sk, err := health.ReadJournal(log)
		if err != nil {
			fmt.Fprintf(stderr, "cdnsteer report: %v\n", err)
			return 1
		}
		if len(ds) == 0 {
			fmt.Fprintf(stderr, "cdnsteer report: %s holds no decisions\n", log)
			return 1
		}
		each = append(each, ds)
		skipped += sk
	}
	ds := event.Merge(each...)
	if err := writeReport(*out, event.PostEvent(ds, skipped, strings.Join(logs, ", "))); err != nil {
		fmt.Fprintf(stderr, "cdnsteer report: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d decisions (%d lines skipped) → %s\n", len(ds), skipped, *out)
	return 0
}

// logFiles is -log given once or more.
type logFiles []string

func (l *logFiles) String() string { return strings.Join(*l, ",") }

func (l *logFiles) Set(s string) error {
	*l = append(*l, s)
	return nil
}

func writeReport(path string, doc *event.Document) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	w := bufio.NewWriter(f)
	err = event.Render(w, doc)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write report: %w", cerr)
	}
	return err
}
