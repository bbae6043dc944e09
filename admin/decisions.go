package admin

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// DefaultFeedSize is how many decisions the feed keeps: a few minutes of
// an event's changes at any scale, about 1 MB at most.
const DefaultFeedSize = 1000

// maxFeedLimit bounds one answer of GET /api/v1/decisions.
const maxFeedLimit = 500

// DecisionFeed keeps the decision log's last entries in memory for the
// live view's change feed ("what changed in the last minutes"), so that
// nobody reads the log file for it. It is the engine's journal: it
// records each decision to the journal it wraps, then keeps it.
// Checkpoints (every CDN's full state) and restores are not changes and
// are not kept, nor a freeze's frozen split.
type DecisionFeed struct {
	next health.Journal

	mu   sync.Mutex
	ring []health.Decision // the last len(ring) decisions, oldest at head once full
	head int
	full bool
}

// NewDecisionFeed keeps the last size decisions recorded through it,
// handing each to next (nil for none) first.
func NewDecisionFeed(next health.Journal, size int) *DecisionFeed {
	if size < 1 {
		size = 1
	}
	return &DecisionFeed{next: next, ring: make([]health.Decision, 0, size)}
}

// Record implements health.Journal. It never blocks beyond a copy.
func (f *DecisionFeed) Record(d health.Decision) {
	if f.next != nil {
		f.next.Record(d)
	}
	f.keep(d)
}

// Seed keeps decisions read back from the log at start, so that after a
// restart the feed shows what happened before it.
func (f *DecisionFeed) Seed(ds []health.Decision) {
	for _, d := range ds {
		f.keep(d)
	}
}

func (f *DecisionFeed) keep(d health.Decision) {
	if d.Kind == health.DecisionCheckpoint || d.Kind == health.DecisionRestore {
		return
	}
	if d.Override != nil && d.Override.Frozen != nil {
		// A freeze's split of every policy is megabytes with a thousand;
		// the feed says what was frozen, the log keeps the split.
		o := *d.Override
		o.Frozen = nil
		d.Override = &o
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.full {
		f.ring = append(f.ring, d)
		f.full = len(f.ring) == cap(f.ring)
		return
	}
	f.ring[f.head] = d
	f.head = (f.head + 1) % len(f.ring)
}

// last returns at most limit kept decisions that match, newest first,
// and how many are kept in all.
func (f *DecisionFeed) last(limit int, match func(*health.Decision) bool) ([]health.Decision, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.ring)
	out := make([]health.Decision, 0, min(limit, n))
	for i := 0; i < n && len(out) < limit; i++ {
		// Newest first: the one before head, going back.
		d := &f.ring[(f.head-1-i+2*n)%n]
		if match(d) {
			out = append(out, *d)
		}
	}
	return out, n
}

// kindName is what a kind in kind= may look like.
var kindName = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)

// getDecisions answers GET /api/v1/decisions[?limit=N][&policy=NAME]
// [&since=T][&kind=K,K…]: the newest kept decisions first, at most limit
// (default 50, at most 500); of one policy with policy= (with those of no
// policy: reloads, notes, overrides of every policy); newer than T with
// since= (RFC 3339); of the kinds listed with kind=.
func (a *api) getDecisions(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Decisions == nil {
		writeError(w, http.StatusServiceUnavailable, "no decision feed on this server")
		return
	}
	q, rerr := query(r, "limit", "policy", "since", "kind")
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	limit := 50
	if s := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxFeedLimit {
			writeRequestError(w, badRequest("limit", "limit must be a whole number from 1 to %d, not %q", maxFeedLimit, s))
			return
		}
		limit = n
	}
	policy := q.Get("policy")
	if q.Has("policy") && (a.cfg.Engine == nil || !slices.Contains(a.cfg.Engine.PolicyNames(), policy)) {
		writeRequestError(w, badRequest("policy", "no policy named %q", policy))
		return
	}
	var since time.Time
	if s := q.Get("since"); q.Has("since") {
		if since, rerr = parseTime("since", s); rerr != nil {
			rerr.msg += plusHint(s)
			writeRequestError(w, rerr)
			return
		}
	}
	var kinds []string
	if q.Has("kind") {
		for _, k := range strings.Split(q.Get("kind"), ",") {
			if !kindName.MatchString(k) {
				writeRequestError(w, badRequest("kind", "kind must be decision kinds separated by commas (state, weights, override …), not %q", q.Get("kind")))
				return
			}
			kinds = append(kinds, k)
		}
	}
	ds, kept := a.cfg.Decisions.last(limit, func(d *health.Decision) bool {
		return (policy == "" || d.Policy == "" || d.Policy == policy) && d.Time.After(since) &&
			(kinds == nil || slices.Contains(kinds, d.Kind))
	})
	writeJSON(w, http.StatusOK, struct {
		Decisions []health.Decision `json:"decisions"`
		// Kept is how many decisions the feed holds (before the filter);
		// older ones are in the decision log only.
		Kept int `json:"kept"`
	}{ds, kept})
}
