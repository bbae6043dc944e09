package zones

import (
	"strings"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
)

// TestSignalLogKeys: [server] signal_log is a path beside the policy,
// its size and the rotated files kept default to health's, and values
// out of bounds are errors at their lines.
func TestSignalLogKeys(t *testing.T) {
	s, err := Parse("/etc/cdnsteer/policy.toml", []byte("[server]\nsignal_log = \"signals.jsonl\"\n"+base+zoneHead))
	if err != nil {
		t.Fatal(err)
	}
	want := health.SignalLogConfig{Path: "/etc/cdnsteer/signals.jsonl", MaxBytes: health.DefaultSignalLogMaxMB << 20, Keep: health.DefaultSignalLogKeep}
	if s.Server.SignalLog != want {
		t.Errorf("signal log = %+v, want %+v", s.Server.SignalLog, want)
	}
	s, err = Parse("p.toml", []byte("[server]\nsignal_log = \"/var/log/s.jsonl\"\nsignal_log_max_mb = 5\nsignal_log_keep = 0\n"+base+zoneHead))
	if err != nil {
		t.Fatal(err)
	}
	if want := (health.SignalLogConfig{Path: "/var/log/s.jsonl", MaxBytes: 5 << 20, Keep: 0}); s.Server.SignalLog != want {
		t.Errorf("signal log = %+v, want %+v", s.Server.SignalLog, want)
	}
	if s, _ := Parse("p.toml", []byte(base+zoneHead)); s.Server.SignalLog.Path != "" {
		t.Errorf("without signal_log: %+v", s.Server.SignalLog)
	}

	cases := []struct {
		name, server string
		want         []string
	}{
		{"zero size", "signal_log_max_mb = 0", []string{"bad.toml:3: server.signal_log_max_mb: 0 is outside 1..1048576 (megabytes per file)"}},
		{"bytes for megabytes", "signal_log_max_mb = 104857600", []string{"bad.toml:3: server.signal_log_max_mb: 104857600 is outside 1..1048576 (megabytes per file)"}},
		{"negative keep", "signal_log_keep = -1", []string{"bad.toml:3: server.signal_log_keep: -1 is outside 0..1000 (rotated files)"}},
		{"a size as text", `signal_log_max_mb = "100MB"`, []string{"bad.toml:3: incompatible types: TOML value has type string; destination has type integer"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte("[server]\nsignal_log = \"s.jsonl\"\n"+tc.server+"\n"+base+zoneHead))
			if err == nil {
				t.Fatal("accepted")
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
}
