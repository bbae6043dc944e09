package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

const (
	// maxSignals bounds one batch; an aggregator with more sends several.
	maxSignals = 10000
	// signalFuture tolerates clocks a little ahead of ours; further ahead
	// a signal would outrank every real one until its time came.
	signalFuture = 5 * time.Minute
	// signalPast refuses history: an hour-old reading says nothing about
	// now, and replaying old batches must not look like fresh telemetry.
	signalPast = time.Hour
)

// signalsRequest is the body of POST /api/v1/signals.
type signalsRequest struct {
	Signals []signalJSON `json:"signals"`
}

// signalJSON is one pushed measurement: these fields, and a number under
// the key of each kind a push may feed (health's kinds table). Absent
// values were not measured. Time is a string so that a malformed one can
// be named precisely.
type signalJSON struct {
	CDN     string        `json:"cdn"`
	Region  string        `json:"region"`
	Samples int           `json:"samples"`
	Time    string        `json:"time"`
	Values  health.Values `json:"-"`
}

// UnmarshalJSON takes the kinds' values out of the object and decodes the
// rest as the plain fields, so that a key of neither is an unknown field
// as it would be for any request. Keys match case-insensitively, as
// encoding/json matches a struct's fields.
func (s *signalJSON) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			te.Type = reflect.TypeFor[signalJSON]()
		}
		return err
	}
	*s = signalJSON{}
	for key, raw := range fields {
		k, ok := pushedKind(key)
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, &s.Values[k]); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				te.Field = k.Key()
			}
			return err
		}
		delete(fields, key)
	}
	rest, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	type plain signalJSON // without this method
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(s))
}

// pushedKind is the kind a push names key, if it may push that kind.
func pushedKind(key string) (health.Kind, bool) {
	for _, k := range health.FedBy(health.SourcePush) {
		if strings.EqualFold(k.Key(), key) {
			return k, true
		}
	}
	return 0, false
}

// postSignals feeds pushed signals (RUM beacons, CDN log aggregates) to
// the engine. The whole batch is checked first and applied only if every
// entry is good, so a rejected batch changes nothing and can be resent
// once fixed.
func (a *api) postSignals(w http.ResponseWriter, r *http.Request) {
	var req signalsRequest
	if !decodeRequest(w, r, &req) {
		return
	}
	sigs, err := a.checkSignals(req.Signals, a.cfg.Now())
	if err != nil {
		writeRequestError(w, err)
		return
	}
	a.cfg.Engine.Push(sigs...)
	if a.cfg.Fleet != nil {
		a.cfg.Fleet.SignalsPushed(sigs)
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"accepted": len(sigs)})
}

// checkSignals converts and checks every entry, stopping at the first
// bad one and naming it.
func (a *api) checkSignals(in []signalJSON, now time.Time) ([]health.Signal, *requestError) {
	switch {
	case len(in) == 0:
		return nil, badRequest("signals", "signals: the batch is empty")
	case len(in) > maxSignals:
		return nil, badRequest("signals", "signals: %d entries, at most %d per request", len(in), maxSignals)
	}
	out := make([]health.Signal, len(in))
	for i, s := range in {
		at := fmt.Sprintf("signals[%d]", i)
		t := now
		if s.Time != "" {
			var rerr *requestError
			if t, rerr = parseTime(at+".time", s.Time); rerr != nil {
				return nil, rerr
			}
			if t.After(now.Add(signalFuture)) {
				return nil, badRequest(at+".time", "%s.time: %s is more than %s in the future", at, s.Time, signalFuture)
			}
			if t.Before(now.Add(-signalPast)) {
				return nil, badRequest(at+".time", "%s.time: %s is more than %s old", at, s.Time, signalPast)
			}
		}
		sig := health.Signal{CDN: s.CDN, Region: s.Region, Time: t, Samples: s.Samples, Source: health.SourcePush, Values: s.Values}
		if err := a.cfg.Engine.CheckSignal(sig); err != nil {
			var fe *keyerr.Error
			if errors.As(err, &fe) {
				return nil, fieldError(at, fe)
			}
			return nil, badRequest(at, "%s: %v", at, err)
		}
		out[i] = sig
	}
	return out, nil
}
