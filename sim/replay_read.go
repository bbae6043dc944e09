package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/internal/keyerr"
	"github.com/cdnsteer/cdnsteer/zones"
)

// replayBackstep is how far a signal may arrive before the one above it
// and still be taken as a clock's wobble (fed at once); further back, the
// files are out of order.
const replayBackstep = time.Minute

// maxReplayErrors stops the reading of a file that is wrong throughout
// (another program's log, a decision log) at a screenful of errors.
const maxReplayErrors = 50

// replayReader reads signal logs line by line and checks each record
// against the candidate policy, collecting every problem at its
// FILE:LINE rather than stopping at the first.
type replayReader struct {
	cfg   *health.Config
	check *health.Engine // checks values as the push API does
	errs  []replayError
	// strangers are the CDNs and regions the policy does not know, by
	// "cdn NAME" / "region NAME": reported once, at their first line,
	// with how many lines name them.
	strangers map[string]*stranger
	// Torn counts lines that are not JSON at all (a crash or a full disk
	// leaves part of a line); FirstTorn locates the first.
	Torn      int
	FirstTorn string

	file    int // index of the file being read
	stop    bool
	last    time.Time
	lastPos string
}

type replayError struct {
	file int
	err  *zones.Error
}

type stranger struct {
	at    replayError
	what  string
	lines int
}

func newReplayReader(cfg *health.Config) *replayReader {
	return &replayReader{cfg: cfg, check: health.NewEngine(*cfg, nil), strangers: map[string]*stranger{}}
}

// read feeds each good record of the files, in order, to use; it stops
// early when errors pile up.
func (rr *replayReader) read(files []string, use func(health.SignalRecord)) error {
	for i, name := range files {
		rr.file = i
		if err := rr.readFile(name, use); err != nil {
			return err
		}
		if rr.stop || len(rr.errs) >= maxReplayErrors {
			break
		}
	}
	return nil
}

func (rr *replayReader) readFile(name string, use func(health.SignalRecord)) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if rec, ok := rr.record(name, line, b); ok {
			use(rec)
		}
		if rr.stop || len(rr.errs) >= maxReplayErrors {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("replay %s: %w", name, err)
	}
	return nil
}

// replayLine is a signal log line as read: health.SignalRecord's fields,
// with the values by key so that a key of no kind can be named (Readings
// would pass over it). One decoding pass, as a week of signals is
// millions of lines.
type replayLine struct {
	Time     time.Time          `json:"time"`
	Measured time.Time          `json:"measured"`
	CDN      string             `json:"cdn"`
	Region   string             `json:"region"`
	Source   string             `json:"source"`
	Samples  int                `json:"samples"`
	Values   map[string]float64 `json:"values"`
}

// record decodes and checks one line.
func (rr *replayReader) record(name string, line int, b []byte) (health.SignalRecord, bool) {
	var rec health.SignalRecord
	fail := func(format string, args ...any) (health.SignalRecord, bool) {
		rr.errs = append(rr.errs, replayError{rr.file, &zones.Error{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}})
		return rec, false
	}
	var in replayLine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) {
			if rr.Torn == 0 {
				rr.FirstTorn = fmt.Sprintf("%s:%d", name, line)
			}
			rr.Torn++
			return rec, false
		}
		return fail("not a signal log line: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	rec = health.SignalRecord{Time: in.Time, Measured: in.Measured, CDN: in.CDN, Region: in.Region, Source: in.Source, Samples: in.Samples}
	var unknown []string
	for key, v := range in.Values {
		if k, ok := health.KindOf(key); ok {
			rec.Values.Values[k] = &v
		} else {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fail("values.%s: unknown signal kind (kinds: %s)", unknown[0], strings.Join(kindKeys(), ", "))
	}
	switch {
	case rec.Time.IsZero():
		return fail("time is missing: a replay feeds each signal at the time it arrived")
	case rec.CDN == "":
		return fail("cdn is missing")
	case rr.cfg.CDNIndex(rec.CDN) < 0:
		return rr.strange(name, line, "cdn", rec.CDN, "CDNs", cdnNames(rr.cfg))
	case rec.Region != "" && rr.cfg.RegionIndex(rec.Region) < 0:
		return rr.strange(name, line, "region", rec.Region, "regions", rr.cfg.Regions)
	}
	if err := rr.check.CheckSignal(rec.Signal()); err != nil {
		if ke, ok := err.(*keyerr.Error); ok {
			if _, isKind := health.KindOf(ke.Key); isKind {
				return fail("values.%v", err)
			}
		}
		return fail("%v", err)
	}
	pos := fmt.Sprintf("%s:%d", name, line)
	if !rr.last.IsZero() && rec.Time.Before(rr.last.Add(-replayBackstep)) {
		// Every line after it would say the same.
		rr.stop = true
		return fail("arrived at %s, %s before the signal at %s: give a log's rotated files oldest first (signals.jsonl.2 signals.jsonl.1 signals.jsonl)",
			rec.Time.UTC().Format(time.RFC3339), rr.last.Sub(rec.Time).Round(time.Second), rr.lastPos)
	}
	if rec.Time.After(rr.last) {
		rr.last, rr.lastPos = rec.Time, pos
	}
	return rec, true
}

// strange notes a CDN or region the policy does not know.
func (rr *replayReader) strange(name string, line int, what, value, plural string, known []string) (health.SignalRecord, bool) {
	key := what + " " + value
	s := rr.strangers[key]
	if s == nil {
		s = &stranger{at: replayError{rr.file, &zones.Error{File: name, Line: line}}, what: fmt.Sprintf("%s %q is not in the policy (its %s: %s)", what, value, plural, strings.Join(known, ", "))}
		rr.strangers[key] = s
		rr.errs = append(rr.errs, s.at)
	}
	s.lines++
	return health.SignalRecord{}, false
}

// err is every problem found, in file and line order; nil when none.
func (rr *replayReader) err() error {
	if len(rr.errs) == 0 {
		return nil
	}
	for _, s := range rr.strangers {
		s.at.err.Msg = s.what
		if s.lines > 1 {
			s.at.err.Msg += fmt.Sprintf("; %d lines name it, the first here", s.lines)
		}
	}
	sort.SliceStable(rr.errs, func(i, j int) bool {
		a, b := rr.errs[i], rr.errs[j]
		if a.file != b.file {
			return a.file < b.file
		}
		return a.err.Line < b.err.Line
	})
	out := make(zones.Errors, len(rr.errs))
	for i, e := range rr.errs {
		out[i] = e.err
	}
	if len(rr.errs) >= maxReplayErrors {
		out = append(out, &zones.Error{File: out[len(out)-1].File, Line: out[len(out)-1].Line, Msg: fmt.Sprintf("stopped after %d problems: is this a signal log recorded for this policy?", maxReplayErrors)})
	}
	return out
}

func cdnNames(cfg *health.Config) []string {
	out := make([]string, len(cfg.CDNs))
	for i, c := range cfg.CDNs {
		out[i] = c.Name
	}
	return out
}

func kindKeys() []string {
	var ks []health.Kind
	for k := range health.NumKinds {
		ks = append(ks, k)
	}
	return health.Keys(ks)
}
