package probe

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Config{CDN: "a", URL: "https://cdn.example/seg.ts"}
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"http with address and host", func(c *Config) {
			c.URL = "http://cdn.example/"
			c.Address = "[2001:db8::1]:80"
			c.Host = "edge.example"
		}, ""},
		{"short interval alone", func(c *Config) { c.Interval = 200 * time.Millisecond }, ""},
		{"no cdn", func(c *Config) { c.CDN = "" }, "cdn name is empty"},
		{"ftp", func(c *Config) { c.URL = "ftp://cdn.example/" }, "scheme must be http or https"},
		{"no host", func(c *Config) { c.URL = "http:///seg.ts" }, "has no host"},
		{"bad url", func(c *Config) { c.URL = "http://a b/" }, "url"},
		{"address name", func(c *Config) { c.Address = "edge.example:443" }, "not an IP:port"},
		{"address no port", func(c *Config) { c.Address = "192.0.2.1" }, "not an IP:port"},
		{"address port 0", func(c *Config) { c.Address = "192.0.2.1:0" }, "port 0"},
		{"bad host header", func(c *Config) { c.Host = "a b" }, "not a valid Host header"},
		{"negative", func(c *Config) { c.MaxBytes = -1 }, "negative"},
		{"timeout over interval", func(c *Config) { c.Interval = time.Second; c.Timeout = 2 * time.Second }, "longer than the interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.Interval != DefaultInterval || c.Timeout != DefaultTimeout || c.MaxBytes != DefaultMaxBytes {
		t.Errorf("defaults %+v", c)
	}
	if c := (Config{Interval: 300 * time.Millisecond}).WithDefaults(); c.Timeout != 300*time.Millisecond {
		t.Errorf("timeout %s, want it capped at the interval", c.Timeout)
	}
}
