package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Version is the record format this build writes and reads. A record of
// another version comes from a newer (or older) cdnsteer sharing the
// bucket: it is skipped whole rather than guessed at.
const Version = 1

// Record kinds, which are also the first token of their bucket keys.
const (
	KindOverride   = "override"
	KindAnnotation = "note"
	KindSignals    = "signals"
	KindInstance   = "instance"
)

// Record is one value in the bucket. Its key is Key(): overrides and notes
// under their IDs (written by whichever instance changes them last),
// signals and heartbeats under the instance that sends them.
type Record struct {
	V        int       `json:"v"`
	Kind     string    `json:"kind"`
	Instance string    `json:"instance"`
	Time     time.Time `json:"time"`

	// Override, for KindOverride, with Ended and Reason for a tombstone.
	Override *health.Override `json:"override,omitempty"`
	Ended    bool             `json:"ended,omitempty"`
	Reason   string           `json:"reason,omitempty"`

	Annotation *health.Annotation `json:"annotation,omitempty"`
	Signals    []Signal           `json:"signals,omitempty"`
	Heartbeat  *Heartbeat         `json:"heartbeat,omitempty"`
}

// Signal is a pushed signal on the wire: values under their kinds' keys,
// so that the format does not depend on the order of health's kinds.
type Signal struct {
	CDN     string             `json:"cdn"`
	Region  string             `json:"region,omitempty"`
	Time    time.Time          `json:"time"`
	Samples int                `json:"samples,omitempty"`
	Values  map[string]float64 `json:"values"`
}

// Heartbeat is what each instance tells the others about itself.
type Heartbeat struct {
	Digest    string  `json:"digest"`
	Overrides int     `json:"overrides"`
	LagSecs   float64 `json:"sync_lag_seconds"`
	Pending   int     `json:"unreplicated"`
}

var (
	// instanceName is a name that is a valid key token sequence.
	instanceName = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
	idToken      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// ValidInstance tells whether name can name an instance in bucket keys.
func ValidInstance(name string) bool { return len(name) <= 128 && instanceName.MatchString(name) }

// Key is where the record lives in the bucket.
func (r *Record) Key() string {
	switch r.Kind {
	case KindOverride:
		return KindOverride + "." + r.Override.ID
	case KindAnnotation:
		return KindAnnotation + "." + r.Annotation.ID
	default:
		return r.Kind + "." + r.Instance
	}
}

// Encode is the record's bucket value.
func (r *Record) Encode() ([]byte, error) {
	r.V = Version
	return json.Marshal(r)
}

// ErrVersion marks a record of another format version.
var ErrVersion = errors.New("another record version")

// Decode reads the value under key, refusing anything it does not fully
// understand: unknown fields (a newer format), a version it does not read,
// a key that does not match the content. A refused record is never applied
// in part.
func Decode(key string, value []byte) (*Record, error) {
	kind, rest, ok := strings.Cut(key, ".")
	if !ok || rest == "" {
		return nil, fmt.Errorf("key %q: not KIND.NAME", key)
	}
	switch kind {
	case KindOverride, KindAnnotation, KindSignals, KindInstance:
	default:
		return nil, fmt.Errorf("key %q: unknown kind %q", key, kind)
	}
	var probe struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(value, &probe); err != nil {
		return nil, fmt.Errorf("key %q: not a record: %v", key, err)
	}
	if probe.V != Version {
		return nil, fmt.Errorf("key %q: version %d, this build reads %d: %w", key, probe.V, Version, ErrVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("key %q: %v", key, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("key %q: data after the record", key)
	}
	if err := r.check(kind, rest); err != nil {
		return nil, fmt.Errorf("key %q: %v", key, err)
	}
	return &r, nil
}

// check tells whether the record is whole and belongs under its key.
func (r *Record) check(kind, name string) error {
	switch {
	case r.Kind != kind:
		return fmt.Errorf("kind %q under a %s key", r.Kind, kind)
	case !ValidInstance(r.Instance):
		return fmt.Errorf("instance %q is not a valid instance name", r.Instance)
	case r.Time.IsZero():
		return errors.New("no time")
	}
	has := map[string]bool{KindOverride: r.Override != nil, KindAnnotation: r.Annotation != nil,
		KindSignals: r.Signals != nil, KindInstance: r.Heartbeat != nil}
	for k, set := range has {
		if set != (k == kind) {
			if set {
				return fmt.Errorf("a %s record carries a %s", kind, k)
			}
			return fmt.Errorf("a %s record without its %s", kind, k)
		}
	}
	if kind != KindOverride && (r.Ended || r.Reason != "") {
		return fmt.Errorf("a %s record cannot end", kind)
	}
	switch kind {
	case KindOverride:
		o := r.Override
		switch {
		case o.ID != name || !idToken.MatchString(o.ID):
			return fmt.Errorf("override id %q under key %q", o.ID, name)
		case o.Created.IsZero() || o.Expires.IsZero():
			return errors.New("override without its created and expires times")
		case !o.Expires.After(o.Created):
			return errors.New("override expires before it was created")
		}
	case KindAnnotation:
		n := r.Annotation
		if n.ID != name || !idToken.MatchString(n.ID) || n.Time.IsZero() {
			return fmt.Errorf("note id %q under key %q, or without its time", n.ID, name)
		}
	case KindSignals, KindInstance:
		if r.Instance != name {
			return fmt.Errorf("instance %q under key %q", r.Instance, name)
		}
	}
	if kind == KindSignals {
		if _, err := r.HealthSignals(); err != nil {
			return err
		}
	}
	return nil
}

// pushedKinds maps the key of each kind a push may feed to its kind.
func pushedKinds() map[string]health.Kind {
	m := map[string]health.Kind{}
	for _, k := range health.FedBy(health.SourcePush) {
		m[k.Key()] = k
	}
	return m
}

// FromSignals is the wire form of pushed signals.
func FromSignals(sigs []health.Signal) []Signal {
	out := make([]Signal, 0, len(sigs))
	for _, s := range sigs {
		w := Signal{CDN: s.CDN, Region: s.Region, Time: s.Time, Samples: s.Samples, Values: map[string]float64{}}
		for k, v := range s.Values {
			if v != nil {
				w.Values[health.Kind(k).Key()] = *v
			}
		}
		out = append(out, w)
	}
	return out
}

// HealthSignals converts the record's signals back, all or none: a kind
// this build does not know (a newer peer's) refuses the batch.
func (r *Record) HealthSignals() ([]health.Signal, error) {
	kinds := pushedKinds()
	out := make([]health.Signal, 0, len(r.Signals))
	for i, w := range r.Signals {
		if w.CDN == "" || w.Time.IsZero() || w.Samples < 0 {
			return nil, fmt.Errorf("signals[%d]: needs a cdn, a time and samples ≥ 0", i)
		}
		s := health.Signal{CDN: w.CDN, Region: w.Region, Time: w.Time, Samples: w.Samples, Source: health.SourcePush}
		for key, v := range w.Values {
			k, ok := kinds[key]
			if !ok {
				return nil, fmt.Errorf("signals[%d]: %q is not a kind this build takes from a push", i, key)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("signals[%d].%s: not a finite number", i, key)
			}
			s.Values[k] = health.F(v)
		}
		out = append(out, s)
	}
	return out, nil
}
