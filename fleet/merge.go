package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Wins tells whether record a replaces b under the same key: the last
// writer wins, by time, then by instance name so that two writes of one
// instant are settled the same way everywhere. For an override an end
// wins over any live copy: an override's ID is never put in force again
// once ended, so a live copy can only be older news.
func Wins(a, b *Record) bool {
	if b == nil {
		return a != nil
	}
	if a == nil {
		return false
	}
	if a.Kind == KindOverride && a.Ended != b.Ended {
		return a.Ended
	}
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	return a.Instance > b.Instance
}

// Same tells whether two records are one write: the same kind of change
// by the same instance at the same time. Such a pair needs no exchange.
func Same(a, b *Record) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Kind == b.Kind && a.Instance == b.Instance && a.Time.Equal(b.Time) && a.Ended == b.Ended
}

// InForce tells whether an override record still acts at now: not ended
// and not expired. Expiry is judged by each instance's own clock, so an
// override ends on time on an instance cut off from the others.
func (r *Record) InForce(now time.Time) bool {
	return r.Kind == KindOverride && !r.Ended && r.Override.Expires.After(now)
}

// Matters tells whether a tombstone still has work to do: until the
// override it ends would have expired, a live copy arriving late must
// not bring it back; after that, expiry ends it anyway.
func (r *Record) Matters(now time.Time) bool {
	return r.Kind == KindOverride && r.Override.Expires.After(now)
}

// overrideRecord is the record of an override in force here. Its time is
// the override's creation, so that a copy put again after a restart is
// not newer than an end written meanwhile elsewhere.
func overrideRecord(o health.Override, self string) *Record {
	origin := o.Origin
	if origin == "" {
		origin = self
	}
	o.Origin = origin
	return &Record{Kind: KindOverride, Instance: origin, Time: o.Created, Override: &o}
}

// tombstone is the record of an override ended at by instance.
func tombstone(o health.Override, instance string, at time.Time, reason string) *Record {
	if o.Origin == "" {
		o.Origin = instance
	}
	return &Record{Kind: KindOverride, Instance: instance, Time: at, Override: &o, Ended: true, Reason: reason}
}

// Digest summarises a set of overrides in force at now: two instances
// with the same digest steer alike. It covers what acts on answers (ID,
// action, what it applies to, creation, expiry), in ID order, not where
// an override came from or the order it arrived in.
func Digest(os []health.Override, now time.Time) string {
	live := make([]health.Override, 0, len(os))
	for _, o := range os {
		if o.Expires.After(now) {
			live = append(live, o)
		}
	}
	slices.SortFunc(live, func(a, b health.Override) int { return strings.Compare(a.ID, b.ID) })
	h := sha256.New()
	for _, o := range live {
		fmt.Fprintf(h, "%s|%s|%s|%s|%s|%d|%d\n", o.ID, o.Action, o.Policy, o.Region, o.CDN,
			o.Created.UnixMilli(), o.Expires.UnixMilli())
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// outcome is what to do with a record read from the bucket, given what
// this instance holds under its key.
type outcome int

const (
	keep     outcome = iota // the same write, or older news: nothing to do
	take                    // the bucket's record wins: apply it here
	reassert                // ours wins and the bucket holds an older one: put ours again
)

// decide settles a bucket record against the local one (nil when this
// instance holds nothing under the key).
func decide(local, remote *Record) outcome {
	switch {
	case Same(local, remote):
		return keep
	case Wins(remote, local):
		return take
	default:
		return reassert
	}
}
