package health

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// RestoreLog is what a warm restart needs of a decision log, read a line
// at a time so that memory follows the state it describes, not the log's
// length (an hour at 1,000 steered names is gigabytes of lines).
type RestoreLog struct {
	// Decisions rebuild, through Restore (and the escalation manager's),
	// what the whole log would: one checkpoint with the latest
	// checkpointed state of every CDN, the last state change of each
	// (before it when the checkpoint is later, after it when not), the
	// overrides in force and the ends of those ended that have not expired
	// (a fleet's tombstones), the escalations open and the last closed,
	// and every plan, schedule and annotation line.
	Decisions []Decision
	// Recent are the log's last decisions, checkpoints and restores left
	// out, oldest first: the change feed's.
	Recent []Decision
	// Lines is how many lines the log held; Skipped how many of those read
	// did not parse (a crash mid-write leaves a partial last line).
	Lines, Skipped int
}

// restoreClosedEscalations is how many closed escalations a restore
// keeps: at least the escalation manager's own (its maxClosed, 100).
const restoreClosedEscalations = 256

// ReadRestoreLog reads the decision log at path for a warm restart at
// now, keeping the last recent decisions for the change feed. A missing
// log is an empty one; a read error returns what was read before it.
func ReadRestoreLog(path string, recent int, now time.Time) (*RestoreLog, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &RestoreLog{}, nil
	}
	if err != nil {
		return &RestoreLog{}, fmt.Errorf("read decision log: %w", err)
	}
	defer f.Close()
	return readRestoreLog(f, recent, now)
}

func readRestoreLog(r io.Reader, recent int, now time.Time) (*RestoreLog, error) {
	rr := restoreReader{now: now, recent: make([][]byte, 0, recent), keep: recent,
		states: map[stateKey]*lastState{}, overrides: map[string]*overrideLines{}, open: map[string]seqLine{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			rr.line(sc.Bytes())
		}
	}
	err := sc.Err()
	if err != nil {
		err = fmt.Errorf("read decision log: %w", err)
	}
	return rr.result(), err
}

// restoreReader is ReadRestoreLog's state between lines.
type restoreReader struct {
	now      time.Time
	seq      int // lines kept so far, to order what is kept
	out      RestoreLog
	ckpt     CheckpointState
	ckptTime time.Time // of the last checkpoint
	// states is each CDN's last state change, and whether a checkpoint
	// has listed the CDN since.
	states    map[stateKey]*lastState
	overrides map[string]*overrideLines
	open      map[string]seqLine // escalations open, by ID
	closed    []Decision         // the last escalations closed
	events    []Decision         // plans, schedules and annotations
	// recent are the last lines for the feed, raw (most are lines a
	// restore does not otherwise read): a ring of keep, next at head.
	recent [][]byte
	keep   int
	head   int
}

type lastState struct {
	d       Decision // slimmed to what Restore reads
	seq     int
	checked bool // a checkpoint listed the CDN after d
}

type seqLine struct {
	d   Decision
	seq int
}

type overrideLines struct {
	set, end       *Decision
	setSeq, endSeq int
}

// line reads one line of the log.
func (rr *restoreReader) line(b []byte) {
	rr.out.Lines++
	kind, ok := lineKind(b)
	if !ok || !skippable[kind] {
		var d Decision
		if err := json.Unmarshal(b, &d); err != nil {
			rr.out.Skipped++
			return
		}
		kind = d.Kind
		rr.read(d)
	}
	if kind != DecisionCheckpoint && kind != DecisionRestore {
		rr.remember(b)
	}
}

// skippable are the kinds a restore does not read (but for the change
// feed, which gets their raw lines decoded at the end): most of a log's
// lines, and not worth decoding.
var skippable = map[string]bool{DecisionWeights: true, DecisionFailOpen: true, DecisionFailOpenEnd: true,
	DecisionStale: true, DecisionStaleEnd: true, DecisionReload: true, DecisionRestore: true}

// lineKind reads a line's kind the way FileJournal writes lines
// ({"time":"…","kind":"…",…}) without decoding it; ok is false for any
// other shape, or a line cut short, which are then decoded in full.
func lineKind(b []byte) (kind string, ok bool) {
	const pre, mid = `{"time":"`, `","kind":"`
	if !bytes.HasPrefix(b, []byte(pre)) || b[len(b)-1] != '}' {
		return "", false
	}
	rest := b[len(pre):]
	i := bytes.IndexByte(rest, '"')
	if i < 0 || !bytes.HasPrefix(rest[i:], []byte(mid)) {
		return "", false
	}
	rest = rest[i+len(mid):]
	if i = bytes.IndexByte(rest, '"'); i < 0 {
		return "", false
	}
	return string(rest[:i]), true
}

// read keeps what Restore would take of d.
func (rr *restoreReader) read(d Decision) {
	rr.seq++
	switch d.Kind {
	case DecisionCheckpoint:
		rr.ckpt.Apply(d)
		rr.ckptTime = d.Time
		for _, s := range d.States {
			if ls := rr.states[stateKey{s.Policy, s.Region, s.CDN}]; ls != nil {
				ls.checked = true
			}
		}
	case DecisionState:
		if d.Score == nil || d.CDN == "" {
			return
		}
		k := stateKey{d.Policy, d.Region, d.CDN}
		slim := Decision{Time: d.Time, Kind: d.Kind, Policy: d.Policy, Region: d.Region, CDN: d.CDN, From: d.From, To: d.To, Score: d.Score}
		if ls := rr.states[k]; ls != nil {
			*ls = lastState{d: slim, seq: rr.seq}
		} else {
			rr.states[k] = &lastState{d: slim, seq: rr.seq}
		}
	case DecisionOverride, DecisionOverrideEnd:
		rr.override(d)
	case DecisionEscalation, DecisionEscalationEnd:
		rr.escalation(d)
	case DecisionSchedule, DecisionScheduleEnd, DecisionPlan, DecisionPlanEnd, DecisionAnnotation:
		rr.events = append(rr.events, d)
	}
}

// override keeps the last line of each override: one in force (set
// last), or ended and not yet expired (ended last); an override gone
// from both is forgotten.
func (rr *restoreReader) override(d Decision) {
	if d.Override == nil || d.Override.ID == "" {
		return
	}
	id := d.Override.ID
	o := rr.overrides[id]
	if o == nil {
		o = &overrideLines{}
		rr.overrides[id] = o
	}
	if d.Kind == DecisionOverride {
		o.set, o.setSeq = &d, rr.seq
		return
	}
	o.set = nil
	o.end, o.endSeq = &d, rr.seq
	if !d.Override.Expires.After(rr.now) {
		o.end = nil
	}
	if o.end == nil {
		delete(rr.overrides, id)
	}
}

// escalation keeps those open, by ID, and the last ones closed.
func (rr *restoreReader) escalation(d Decision) {
	if d.Escalation == nil || d.Escalation.ID == "" {
		return
	}
	if d.Kind == DecisionEscalation {
		rr.open[d.Escalation.ID] = seqLine{d, rr.seq}
		return
	}
	delete(rr.open, d.Escalation.ID)
	rr.closed = append(rr.closed, d)
	if over := len(rr.closed) - restoreClosedEscalations; over > 0 {
		rr.closed = append(rr.closed[:0], rr.closed[over:]...)
	}
}

// remember keeps raw line b among the last ones, in a buffer of its own.
func (rr *restoreReader) remember(b []byte) {
	if rr.keep <= 0 {
		return
	}
	if len(rr.recent) < rr.keep {
		rr.recent = append(rr.recent, append([]byte(nil), b...))
		return
	}
	rr.recent[rr.head] = append(rr.recent[rr.head][:0], b...)
	rr.head = (rr.head + 1) % rr.keep
}

// result puts what was kept in an order Restore reads as it would the
// whole log: a CDN's state change before the checkpoint that listed it
// after the change (whose values win, the change giving the time of the
// last change), the changes no checkpoint followed after it; ends of
// overrides before the overrides in force.
func (rr *restoreReader) result() *RestoreLog {
	out := &rr.out
	var before, after []*lastState
	for _, ls := range rr.states {
		if ls.checked {
			before = append(before, ls)
		} else {
			after = append(after, ls)
		}
	}
	bySeq := func(a, b *lastState) int { return a.seq - b.seq }
	slices.SortFunc(before, bySeq)
	slices.SortFunc(after, bySeq)
	for _, ls := range before {
		out.Decisions = append(out.Decisions, ls.d)
	}
	if states := rr.ckpt.States(); len(states) > 0 {
		out.Decisions = append(out.Decisions, Decision{Time: rr.ckptTime, Kind: DecisionCheckpoint, States: states})
	}
	for _, ls := range after {
		out.Decisions = append(out.Decisions, ls.d)
	}
	var ends, sets []*overrideLines
	for _, o := range rr.overrides {
		if o.end != nil {
			ends = append(ends, o)
		}
		if o.set != nil && o.set.Override.Expires.After(rr.now) {
			sets = append(sets, o)
		}
	}
	slices.SortFunc(ends, func(a, b *overrideLines) int { return a.endSeq - b.endSeq })
	slices.SortFunc(sets, func(a, b *overrideLines) int { return a.setSeq - b.setSeq })
	for _, o := range ends {
		out.Decisions = append(out.Decisions, *o.end)
	}
	for _, o := range sets {
		out.Decisions = append(out.Decisions, *o.set)
	}
	out.Decisions = append(out.Decisions, rr.closed...)
	open := make([]seqLine, 0, len(rr.open))
	for _, o := range rr.open {
		open = append(open, o)
	}
	slices.SortFunc(open, func(a, b seqLine) int { return a.seq - b.seq })
	for _, o := range open {
		out.Decisions = append(out.Decisions, o.d)
	}
	out.Decisions = append(out.Decisions, rr.events...)
	rr.feed()
	return out
}

// feed decodes the lines kept for the change feed, oldest first.
func (rr *restoreReader) feed() {
	n := len(rr.recent)
	for i := range n {
		var d Decision
		if err := json.Unmarshal(rr.recent[(rr.head+i)%n], &d); err != nil {
			rr.out.Skipped++ // one of the lines not decoded before
			continue
		}
		rr.out.Recent = append(rr.out.Recent, d)
	}
}
