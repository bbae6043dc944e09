package zones

import (
	"slices"
	"strings"
	"testing"
)

// The keys guarding server.http: each problem at its line, and a bind
// beyond loopback refused unless TLS and tokens are set.
func TestHTTPDoorErrors(t *testing.T) {
	for _, tc := range []struct{ name, server, want string }{
		{"public bind", "http = \"192.0.2.9:8053\"\n",
			`bad.toml:2: server.http: 192.0.2.9:8053 is not a loopback address: the API, the live view and /metrics would be open to the network; bind 127.0.0.1:PORT, or set http_tls_cert and http_tls_key and admin_token_file`},
		{"wildcard, tokens only", "http = \"0.0.0.0:8053\"\nadmin_token_file = \"t\"\n",
			`bad.toml:2: server.http: 0.0.0.0:8053 is not a loopback address: the API, the live view and /metrics would be open to the network; bind 127.0.0.1:PORT, or set http_tls_cert and http_tls_key`},
		{"ipv6, tls only", "http = \"[2001:db8::1]:8053\"\nhttp_tls_cert = \"c\"\nhttp_tls_key = \"k\"\n",
			`bad.toml:2: server.http: [2001:db8::1]:8053 is not a loopback address: the API, the live view and /metrics would be open to the network; bind 127.0.0.1:PORT, or set admin_token_file`},
		{"open reads off loopback", "http = \"10.53.0.1:8053\"\nadmin_token_file = \"t\"\nhttp_tls_cert = \"c\"\nhttp_tls_key = \"k\"\nhttp_open_reads = true\n",
			`bad.toml:6: server.http_open_reads: allowed on loopback binds only, and server.http is 10.53.0.1:8053`},
		{"cert without key", "http_tls_cert = \"c\"\n",
			`bad.toml:2: server: http_tls_cert and http_tls_key go together (both for HTTPS, neither for HTTP)`},
		{"key without cert", "http_tls_key = \"k\"\n",
			`bad.toml:2: server: http_tls_cert and http_tls_key go together`},
		{"closed reads without tokens", "http_open_reads = false\n",
			`bad.toml:2: server.http_open_reads = false needs admin_token_file: without tokens nobody could read`},
		{"bad host", "http_allowed_hosts = [\"ns1.example.net\", \"ns1.example.net:8053\", \"*.example.net\", \"https://x\"]\n",
			`bad.toml:2: server.http_allowed_hosts: "ns1.example.net:8053" is not a host name or IP address (no port, no scheme, no wildcard)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte("[server]\n"+tc.server+base+zoneHead))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
	// Every bad host is named.
	_, err := Parse("bad.toml", []byte("[server]\nhttp_allowed_hosts = [\"a:1\", \"*.b\"]\n"+base+zoneHead))
	if err == nil || !strings.Contains(err.Error(), `"a:1"`) || !strings.Contains(err.Error(), `"*.b"`) {
		t.Errorf("two bad hosts: %v", err)
	}
}

func TestHTTPDoorResolved(t *testing.T) {
	// Defaults: no token file, reads open; paths relative to the file.
	s, err := Parse("/etc/cdnsteer/policy.toml", []byte(base+zoneHead))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Server.HTTPOpenReads || len(s.Server.HTTPAllowedHosts) != 0 || s.Server.HTTPTLSCert != "" || len(s.Warnings) != 1 {
		t.Errorf("defaults: %+v %v", s.Server, s.Warnings)
	}
	s, err = Parse("/etc/cdnsteer/policy.toml", []byte("[server]\nadmin_token_file = \"tokens\"\n"+base+zoneHead))
	if err != nil {
		t.Fatal(err)
	}
	if s.Server.HTTPOpenReads {
		t.Error("a token file leaves reads open")
	}
	s, err = Parse("/etc/cdnsteer/policy.toml", []byte("[server]\nadmin_token_file = \"tokens\"\nhttp_open_reads = true\n"+base+zoneHead))
	if err != nil || !s.Server.HTTPOpenReads {
		t.Errorf("opted out on loopback: %v %v", err, s.Server.HTTPOpenReads)
	}
	// Beyond loopback with TLS and tokens: allowed, with a warning.
	doc := "[server]\nhttp = \"10.53.0.1:8053\"\nadmin_token_file = \"tokens\"\nhttp_tls_cert = \"tls/admin.crt\"\nhttp_tls_key = \"/etc/ssl/admin.key\"\n" +
		"http_allowed_hosts = [\"ns1.example.net\", \"10.53.0.1\", \"[2001:db8::53]\"]\n"
	s, err = Parse("/etc/cdnsteer/policy.toml", []byte(doc+base+zoneHead))
	if err != nil {
		t.Fatal(err)
	}
	if s.Server.HTTPTLSCert != "/etc/cdnsteer/tls/admin.crt" || s.Server.HTTPTLSKey != "/etc/ssl/admin.key" || s.Server.HTTPOpenReads ||
		!slices.Equal(s.Server.HTTPAllowedHosts, []string{"ns1.example.net", "10.53.0.1", "[2001:db8::53]"}) {
		t.Errorf("resolved: %+v", s.Server)
	}
	if len(s.Warnings) != 2 || !strings.Contains(s.Warnings[0], "server.http 10.53.0.1:8053 listens beyond loopback") {
		t.Errorf("warnings: %q", s.Warnings)
	}
}
