package health

import (
	"bytes"
	"encoding/json"
	"time"
)

// Readings are the fresh values the engine scored a CDN on; nil means no
// fresh value.
type Readings struct {
	Values Values
	// Newest is the time of the newest value used.
	Newest time.Time
}

// Map returns the readings by kind key, for logs.
func (r *Readings) Map() map[string]float64 {
	m := map[string]float64{}
	for k, v := range r.Values {
		if v != nil {
			m[Kind(k).Key()] = Round(*v, 4)
		}
	}
	return m
}

// MarshalJSON writes each fresh value under its kind's key, in table
// order, then "newest" when there was any.
func (r Readings) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(key string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		val, err := json.Marshal(v)
		if err != nil {
			return err
		}
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
		return nil
	}
	for k, v := range r.Values {
		if v == nil {
			continue
		}
		if err := field(Kind(k).Key(), *v); err != nil {
			return nil, err
		}
	}
	if !r.Newest.IsZero() {
		if err := field("newest", r.Newest); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes. Keys of no kind are
// ignored, as they would be for a struct.
func (r *Readings) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	*r = Readings{}
	for key, raw := range fields {
		if key == "newest" {
			if err := json.Unmarshal(raw, &r.Newest); err != nil {
				return err
			}
			continue
		}
		if k, ok := KindOf(key); ok {
			if err := json.Unmarshal(raw, &r.Values[k]); err != nil {
				return err
			}
		}
	}
	return nil
}
