package zones

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// hostName is a DNS name as a Host header carries it (letters, digits,
// hyphens, dots; a final dot allowed).
var hostName = regexp.MustCompile(`(?i)^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$`)

// httpDoor resolves the keys that guard server.http: TLS, open reads and
// the allowed Host names. The admin package reads the files they name
// (token file, certificate) at start and in `cdnsteer check`. A bind
// beyond loopback is refused unless TLS and tokens are set: what is
// refused here points at the policy's line.
func (c *compiler) httpDoor(sc *ServerConfig, s *Server) {
	s.HTTPTLSCert, s.HTTPTLSKey = c.path(sc.HTTPTLSCert), c.path(sc.HTTPTLSKey)
	if (sc.HTTPTLSCert == "") != (sc.HTTPTLSKey == "") {
		at := "server.http_tls_cert"
		if sc.HTTPTLSCert == "" {
			at = "server.http_tls_key"
		}
		c.el.Add(at, "server: http_tls_cert and http_tls_key go together (both for HTTPS, neither for HTTP)")
	}
	// Without a token file there is no token to read with: reads are
	// open, writes disabled.
	s.HTTPOpenReads = sc.AdminTokenFile == ""
	if sc.HTTPOpenReads != nil {
		s.HTTPOpenReads = *sc.HTTPOpenReads
		if !s.HTTPOpenReads && sc.AdminTokenFile == "" {
			c.el.Add("server.http_open_reads", "server.http_open_reads = false needs admin_token_file: without tokens nobody could read")
		}
	}
	for _, h := range sc.HTTPAllowedHosts {
		if !validHost(h) {
			c.el.Add("server.http_allowed_hosts", "server.http_allowed_hosts: %q is not a host name or IP address (no port, no scheme, no wildcard)", h)
		}
	}
	s.HTTPAllowedHosts = sc.HTTPAllowedHosts
	ap, err := netip.ParseAddrPort(s.HTTP)
	if err != nil || ap.Addr().Unmap().IsLoopback() {
		return
	}
	if sc.HTTPOpenReads != nil && *sc.HTTPOpenReads {
		c.el.Add("server.http_open_reads", "server.http_open_reads: allowed on loopback binds only, and server.http is %s", s.HTTP)
	}
	var missing []string
	if s.HTTPTLSCert == "" || s.HTTPTLSKey == "" {
		missing = append(missing, "http_tls_cert and http_tls_key")
	}
	if s.AdminTokenFile == "" {
		missing = append(missing, "admin_token_file")
	}
	if len(missing) > 0 {
		c.el.Add("server.http", "server.http: %s is not a loopback address: the API, the live view and /metrics would be open to the network; bind 127.0.0.1:PORT, or set %s",
			s.HTTP, strings.Join(missing, " and "))
	}
}

func validHost(h string) bool {
	if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return a.Zone() == ""
	}
	return hostName.MatchString(h)
}

// httpWarnings are the loud notes about a door that is allowed but wide:
// a listener beyond loopback (TLS and tokens set, or it would be an error).
func httpWarnings(s Server) []string {
	ap, err := netip.ParseAddrPort(s.HTTP)
	if err != nil || ap.Addr().Unmap().IsLoopback() {
		return nil
	}
	w := []string{fmt.Sprintf("server.http %s listens beyond loopback (HTTPS, tokens required): keep it on a management network", s.HTTP)}
	if ap.Addr().IsUnspecified() && len(s.HTTPAllowedHosts) == 0 {
		w = append(w, fmt.Sprintf("server.http %s binds every address: set http_allowed_hosts to the names and addresses clients use, or only localhost and the certificate's names are answered", s.HTTP))
	}
	return w
}
