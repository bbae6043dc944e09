package fleet

import (
	"errors"
	"strings"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
)

func TestRecordRoundTrip(t *testing.T) {
	r := live("abc123", "ns1", t0)
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode("override.abc123", b)
	if err != nil {
		t.Fatal(err)
	}
	if !Same(got, r) || got.Override.ID != "abc123" || !got.Override.Expires.Equal(r.Override.Expires) {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestDecodeRefusesWhatItDoesNotFullyRead(t *testing.T) {
	good, _ := live("abc123", "ns1", t0).Encode()
	cases := map[string]struct {
		key, value string
		version    bool
	}{
		"another version":       {"override.abc123", strings.Replace(string(good), `"v":1`, `"v":2`, 1), true},
		"unknown field":         {"override.abc123", strings.Replace(string(good), `"v":1`, `"v":1,"weight":3`, 1), false},
		"torn":                  {"override.abc123", string(good[:len(good)/2]), false},
		"unknown kind of key":   {"gossip.ns1", string(good), false},
		"id not the key's":      {"override.other", string(good), false},
		"kind not the key's":    {"note.abc123", string(good), false},
		"no dot":                {"override", string(good), false},
		"bad instance":          {"override.abc123", strings.Replace(string(good), `"instance":"ns1"`, `"instance":"ns 1"`, 1), false},
		"trailing data":         {"override.abc123", string(good) + `{}`, false},
		"signals, unknown kind": {"signals.ns1", `{"v":1,"kind":"signals","instance":"ns1","time":"2026-06-11T20:00:00Z","signals":[{"cdn":"a","time":"2026-06-11T20:00:00Z","values":{"warp_factor":9}}]}`, false},
	}
	for name, c := range cases {
		_, err := Decode(c.key, []byte(c.value))
		if err == nil {
			t.Errorf("%s: decoded", name)
			continue
		}
		if errors.Is(err, ErrVersion) != c.version {
			t.Errorf("%s: version error %v, want %v: %v", name, errors.Is(err, ErrVersion), c.version, err)
		}
	}
}

func TestSignalsRoundTripByKindKey(t *testing.T) {
	sig := health.Signal{CDN: "fastly", Region: "kr", Time: t0, Samples: 5, Source: health.SourcePush}
	k := health.FedBy(health.SourcePush)[0]
	sig.Values[k] = health.F(850)
	r := &Record{Kind: KindSignals, Instance: "ns1", Time: t0, Signals: FromSignals([]health.Signal{sig})}
	b, _ := r.Encode()
	got, err := Decode("signals.ns1", b)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := got.HealthSignals()
	if err != nil || len(sigs) != 1 || sigs[0].Values[k] == nil || *sigs[0].Values[k] != 850 || sigs[0].Region != "kr" {
		t.Fatalf("%+v %v", sigs, err)
	}
}
