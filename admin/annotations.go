package admin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

const (
	// MaxAnnotations is how many annotations the store keeps; older ones
	// are dropped from memory (the decision log still has them). An event
	// needs dozens; the bound only stops a runaway script.
	MaxAnnotations = 10000
	maxNoteText    = 1000
	maxNoteTags    = 20
	maxNoteTag     = 64
	// noteFuture tolerates a client clock slightly ahead; the timeline
	// records what happened, not plans.
	noteFuture = 5 * time.Minute
)

// Annotations is the event timeline: operators' notes ("kick-off",
// "escalated to Fastly") shown next to scores and weights. It keeps them in
// memory, oldest first, and records each new one to the decision log so
// that a restart restores them.
type Annotations struct {
	mu      sync.Mutex
	notes   []health.Annotation // sorted by time
	journal health.Journal
}

// NewAnnotations returns a store holding restored (the annotations that
// health.Engine.Restore found in the decision log) and recording new ones
// to j (nil for none).
func NewAnnotations(restored []health.Annotation, j health.Journal) *Annotations {
	notes := append([]health.Annotation(nil), restored...)
	sort.SliceStable(notes, func(i, k int) bool { return notes[i].Time.Before(notes[k].Time) })
	if len(notes) > MaxAnnotations {
		notes = notes[len(notes)-MaxAnnotations:]
	}
	return &Annotations{notes: notes, journal: j}
}

// Add validates n, gives it an ID and (if unset) the time now, stores it
// and records it to the journal. A bad note is a *keyerr.Error and is
// not stored.
func (a *Annotations) Add(n health.Annotation, now time.Time) (health.Annotation, error) {
	n.Text = strings.TrimSpace(n.Text)
	if err := checkNote(n, now); err != nil {
		return health.Annotation{}, err
	}
	if n.Time.IsZero() {
		n.Time = now
	}
	n.ID = noteID()
	n.Tags = append([]string(nil), n.Tags...)

	a.mu.Lock()
	defer a.mu.Unlock()
	// Insert after every note at the same time or earlier, so that notes
	// added in one instant keep their order.
	i := sort.Search(len(a.notes), func(i int) bool { return a.notes[i].Time.After(n.Time) })
	a.notes = append(a.notes, health.Annotation{})
	copy(a.notes[i+1:], a.notes[i:])
	a.notes[i] = n
	if len(a.notes) > MaxAnnotations {
		a.notes = append(a.notes[:0], a.notes[len(a.notes)-MaxAnnotations:]...)
	}
	if a.journal != nil {
		// Recorded under the lock so that the log has notes in the order
		// the store accepted them; Journal.Record never blocks.
		logged := n
		a.journal.Record(health.Decision{Time: now, Kind: health.DecisionAnnotation, Annotation: &logged})
	}
	return n, nil
}

// Since returns the notes at or after t (all for the zero time), oldest
// first.
func (a *Annotations) Since(t time.Time) []health.Annotation {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := sort.Search(len(a.notes), func(i int) bool { return !a.notes[i].Time.Before(t) })
	return append([]health.Annotation{}, a.notes[i:]...)
}

func checkNote(n health.Annotation, now time.Time) error {
	switch {
	case n.Text == "":
		return &keyerr.Error{Key: "text", Msg: "say what happened"}
	case utf8.RuneCountInString(n.Text) > maxNoteText:
		return &keyerr.Error{Key: "text", Msg: fmt.Sprintf("longer than %d characters", maxNoteText)}
	case len(n.Tags) > maxNoteTags:
		return &keyerr.Error{Key: "tags", Msg: fmt.Sprintf("%d tags, at most %d", len(n.Tags), maxNoteTags)}
	case n.Time.After(now.Add(noteFuture)):
		return &keyerr.Error{Key: "time", Msg: fmt.Sprintf("more than %s in the future", noteFuture)}
	}
	for i, tag := range n.Tags {
		switch {
		case strings.TrimSpace(tag) == "":
			return &keyerr.Error{Key: fmt.Sprintf("tags[%d]", i), Msg: "empty tag"}
		case utf8.RuneCountInString(tag) > maxNoteTag:
			return &keyerr.Error{Key: fmt.Sprintf("tags[%d]", i), Msg: fmt.Sprintf("longer than %d characters", maxNoteTag)}
		}
	}
	return nil
}

func noteID() string {
	var b [8]byte
	// crypto/rand.Read never fails (it panics if the system cannot
	// supply randomness).
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Put stores a note written on another instance of the fleet, keeping its
// ID and time, and records it to the journal so that a restart keeps it.
// A note already held changes nothing and reports false; a bad one is a
// *keyerr.Error and is not stored.
func (a *Annotations) Put(n health.Annotation, now time.Time) (bool, error) {
	if n.ID == "" {
		return false, &keyerr.Error{Key: "id", Msg: "a note from the fleet needs its id"}
	}
	if n.Time.IsZero() {
		return false, &keyerr.Error{Key: "time", Msg: "a note from the fleet needs its time"}
	}
	if err := checkNote(n, now); err != nil {
		return false, err
	}
	n.Tags = append([]string(nil), n.Tags...)
	a.mu.Lock()
	defer a.mu.Unlock()
	i := sort.Search(len(a.notes), func(i int) bool { return a.notes[i].Time.After(n.Time) })
	// Notes of one instant sit together before i: a held copy is among
	// them, or among the same-time notes just before.
	for k := i - 1; k >= 0 && a.notes[k].Time.Equal(n.Time); k-- {
		if a.notes[k].ID == n.ID {
			return false, nil
		}
	}
	a.notes = slices.Insert(a.notes, i, n)
	if len(a.notes) > MaxAnnotations {
		a.notes = append(a.notes[:0], a.notes[len(a.notes)-MaxAnnotations:]...)
	}
	if a.journal != nil {
		logged := n
		a.journal.Record(health.Decision{Time: now, Kind: health.DecisionAnnotation, Annotation: &logged})
	}
	return true, nil
}
