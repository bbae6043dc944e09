package rrl

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		keys []string // the keys the error must name, in order; none: valid
	}{
		{"defaults", func(*Config) {}, nil},
		{"zero means default", func(c *Config) { *c = Config{} }, nil},
		{"slip bounds", func(c *Config) { c.Slip = 0 }, nil},
		{"slip max", func(c *Config) { c.Slip = MaxSlip }, nil},
		{"exempt", func(c *Config) { c.Exempt = []string{"10.0.0.0/8"} }, nil},
		{"negative rates", func(c *Config) { c.ResponsesPerSecond, c.NXDomainsPerSecond, c.ErrorsPerSecond = -1, -2, -3 },
			[]string{"responses_per_second", "nxdomains_per_second", "errors_per_second"}},
		{"rate too high", func(c *Config) { c.ResponsesPerSecond = MaxRate + 1 }, []string{"responses_per_second"}},
		{"window short", func(c *Config) { c.Window = 500 * time.Millisecond }, []string{"window"}},
		{"window long", func(c *Config) { c.Window = 2 * time.Hour }, []string{"window"}},
		{"slip", func(c *Config) { c.Slip = 11 }, []string{"slip"}},
		{"negative slip", func(c *Config) { c.Slip = -1 }, []string{"slip"}},
		{"prefixes", func(c *Config) { c.IPv4Prefix, c.IPv6Prefix = 33, 129 }, []string{"ipv4_prefix", "ipv6_prefix"}},
		{"exempt invalid", func(c *Config) { c.Exempt = []string{"10.0.0.0/8", "10.0.0.1/8", "banana"} }, []string{"exempt[1]", "exempt[2]"}},
		{"table small", func(c *Config) { c.TableSize = 7 }, []string{"table_size"}},
		{"table big", func(c *Config) { c.TableSize = MaxTableSize + 1 }, []string{"table_size"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.cfg(&cfg)
			err := cfg.Validate()
			if len(tc.keys) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error, want errors for %v", tc.keys)
			}
			var got []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ke *keyerr.Error
				if !errors.As(e, &ke) {
					t.Fatalf("%v is not a *keyerr.Error", e)
				}
				if !strings.HasPrefix(ke.Error(), ke.Key+": ") {
					t.Errorf("%q does not start with its key", ke.Error())
				}
				got = append(got, ke.Key)
			}
			if strings.Join(got, ",") != strings.Join(tc.keys, ",") {
				t.Errorf("errors name %v, want %v (%v)", got, tc.keys, err)
			}
			if _, err := New(cfg, nil); err == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	got := Config{ResponsesPerSecond: 50}.withDefaults()
	want := Config{
		ResponsesPerSecond: 50, NXDomainsPerSecond: 50, ErrorsPerSecond: 50,
		Window: DefaultWindow, IPv4Prefix: 24, IPv6Prefix: 56, TableSize: DefaultTableSize,
	}
	if got.ResponsesPerSecond != want.ResponsesPerSecond || got.NXDomainsPerSecond != want.NXDomainsPerSecond ||
		got.ErrorsPerSecond != want.ErrorsPerSecond || got.Window != want.Window || got.IPv4Prefix != want.IPv4Prefix ||
		got.IPv6Prefix != want.IPv6Prefix || got.TableSize != want.TableSize || got.Slip != 0 {
		t.Errorf("withDefaults = %+v, want %+v", got, want)
	}
}
